/**
 * What the plan left out and why, as the run's log says it: entries that need the operator fail the run, an entry
 * named on the command line and refused fails it too, a due entry this node cannot renew is a warning.
 */
import type { LeafRecord } from '../inventory/records.js';
import type { SkippedItem } from '../plan/plan.js';
import type { ApplyDeps } from './deps.js';

/** Logs every skipped entry; returns the names that fail the run. */
export function reportSkipped(skipped: SkippedItem[], leaves: LeafRecord[], named: ReadonlySet<string>, deps: Pick<ApplyDeps, 'log'>): string[] {
  const failed: string[] = [];
  const log = deps.log;
  for (const s of skipped) {
    if (s.failure) {
      failed.push(s.name);
      const leaf = leaves.find((l) => l.entry.name === s.name);
      for (const p of leaf?.problems ?? []) log.error({ entry: s.name, file: p.file, hint: p.hint }, `${s.name}: ${p.file}: ${p.message}`);
      if (!leaf?.problems.length) log.error({ entry: s.name }, `${s.name}: not renewed: ${s.why}`);
    } else if (named.has(s.name)) {
      // Named on the command line and refused: the request was not carried out.
      failed.push(s.name);
      log.error({ entry: s.name, blocker: s.blocker }, `${s.name}: not renewed: ${s.why}`);
    } else if (s.due) {
      log.warn({ entry: s.name, blocker: s.blocker }, `${s.name}: due but not renewed here: ${s.why}`);
    }
  }
  return failed;
}
