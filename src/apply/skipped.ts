/**
 * How a run reports the entries it did not renew. Entries held back by one CA's problem (ca.crt missing, ca.key not
 * matching it) are reported once, as that CA's problem naming its file, with the entries it holds back, rather than
 * once per entry as "its CA cannot be used".
 */
import type { Inventory } from '../inventory/records.js';
import type { Logger } from '../ops/log.js';
import type { SkippedItem } from '../plan/plan.js';

export interface SkippedReport {
  /** Entries the run failed on (named on the command line and refused, or broken). */
  failed: string[];
}

/** Log every skipped entry that needs telling, each CA problem once; return the entries that count as failed. */
export function reportSkipped(
  skipped: SkippedItem[], inventory: Inventory, forced: ReadonlySet<string>, all: boolean, log: Logger,
): SkippedReport {
  const failed: string[] = [];
  const heldByCa = new Map<string, string[]>();
  for (const s of skipped) {
    const leaf = inventory.leaves.find((l) => l.entry.name === s.name);
    const ca = inventory.cas.find((c) => c.entry.name === leaf?.entry.ca);
    if (s.blocker === 'ca-unavailable' && ca && ca.problems.length > 0 && (s.failure || s.due || forced.has(s.name))) {
      failed.push(s.name);
      heldByCa.set(ca.entry.name, [...(heldByCa.get(ca.entry.name) ?? []), s.name]);
      for (const p of leaf?.problems ?? []) log.error({ entry: s.name, file: p.file, hint: p.hint }, `${s.name}: ${p.file}: ${p.message}`);
    } else if (s.failure) {
      failed.push(s.name);
      for (const p of leaf?.problems ?? []) log.error({ entry: s.name, file: p.file, hint: p.hint }, `${s.name}: ${p.file}: ${p.message}`);
      if (!leaf?.problems.length) log.error({ entry: s.name }, `${s.name}: not renewed: ${s.why}`);
    } else if (forced.has(s.name) && !all) {
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
      log.error({ ca: name, file: p.file, hint: p.hint, entries },
        `${name} CA: ${p.file}: ${p.message}; not renewed because of it: ${entries.join(', ')}`);
    }
  }
  return { failed };
}
