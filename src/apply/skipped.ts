/**
 * What the plan left out and why, as the run's log says it: entries that need the operator fail the run, an entry
 * named on the command line and refused fails it too, a due entry this node cannot renew is a warning. Entries held
 * back by one CA's problem (ca.crt missing, ca.key not matching it) are reported once, as that CA's problem naming
 * its file, with the entries it holds back, rather than once per entry as "its CA cannot be used".
 */
import { hostPathOf, hostText } from '../host/paths.js';
import type { Inventory, LeafRecord } from '../inventory/records.js';
import type { SkippedItem } from '../plan/plan.js';
import type { ApplyDeps } from './deps.js';

type Deps = Pick<ApplyDeps, 'log' | 'paths'>;

/** Every problem of a leaf, logged with host paths. */
function logLeafProblems(leaf: LeafRecord | undefined, name: string, deps: Deps): void {
  for (const p of leaf?.problems ?? []) {
    const file = hostPathOf(deps.paths.root, p.file);
    deps.log.error({ entry: name, file, hint: p.hint }, `${name}: ${file}: ${hostText(deps.paths.root, p.message)}`);
  }
}

/** Logs every skipped entry, each CA problem once; returns the names that fail the run. */
export function reportSkipped(skipped: SkippedItem[], inventory: Inventory, named: ReadonlySet<string>, deps: Deps): string[] {
  const failed: string[] = [];
  const log = deps.log;
  const heldByCa = new Map<string, string[]>();
  for (const s of skipped) {
    const leaf = inventory.leaves.find((l) => l.entry.name === s.name);
    const ca = inventory.cas.find((c) => c.entry.name === leaf?.entry.ca);
    if (s.blocker === 'ca-expiring' || s.blocker === 'ca-expired') {
      // The run tells each such CA once (report/ca-expiry.ts), not once per certificate it signs.
      failed.push(s.name);
      log.debug({ entry: s.name, blocker: s.blocker }, `${s.name}: not renewed: ${s.why}`);
    } else if (s.blocker === 'ca-unavailable' && ca && ca.problems.length > 0 && (s.failure || named.has(s.name))) {
      failed.push(s.name);
      heldByCa.set(ca.entry.name, [...(heldByCa.get(ca.entry.name) ?? []), s.name]);
      logLeafProblems(leaf, s.name, deps);
    } else if (s.failure) {
      failed.push(s.name);
      logLeafProblems(leaf, s.name, deps);
      if (!leaf?.problems.length) log.error({ entry: s.name }, `${s.name}: not renewed: ${s.why}`);
    } else if (named.has(s.name)) {
      // Named on the command line and refused: the request was not carried out.
      failed.push(s.name);
      log.error({ entry: s.name, blocker: s.blocker }, `${s.name}: not renewed: ${s.why}`);
    } else if (s.due) {
      log.warn({ entry: s.name, blocker: s.blocker }, `${s.name}: due but not renewed here: ${s.why}`);
    }
  }
  for (const [name, entries] of heldByCa) {
    const ca = inventory.cas.find((c) => c.entry.name === name);
    for (const p of ca?.problems ?? []) {
      const file = hostPathOf(deps.paths.root, p.file);
      log.error({ ca: name, file, hint: p.hint, entries },
        `${name} CA: ${file}: ${hostText(deps.paths.root, p.message)}; not renewed because of it: ${entries.join(', ')}`);
    }
  }
  return failed;
}
