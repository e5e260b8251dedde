/**
 * The state after a run's files are restored (automatic rollback or the `rollback` command): each entry's last
 * renewal is the one that issued the certificate now back in place — what the state remembered when the run staged
 * it (kept in the journal), else the latest earlier run whose new serial is the serial restored — or none (kubeadm
 * issued it). Counters are not touched: they count renewals written, and a
 * Prometheus counter never goes down.
 */
import type { State } from './state.js';
import type { Journal } from './transaction.js';

export function undoRenewals(state: State, journal: Journal, runs: Journal[]): void {
  const earlier = runs
    .filter((j) => j.id < journal.id && j.phase !== 'rolled-back' && j.phase !== 'prepared')
    .reverse();
  for (const e of journal.entries) {
    if (e.previousRenewal?.newSerial === e.oldSerial) {
      state.entries[e.name] = e.previousRenewal;
      continue;
    }
    const from = earlier.find((j) => j.entries.some((x) => x.name === e.name && x.newSerial === e.oldSerial));
    const x = from?.entries.find((y) => y.name === e.name);
    if (from && x) {
      state.entries[e.name] = {
        renewedAt: from.startedAt, runId: from.id, oldSerial: x.oldSerial, newSerial: x.newSerial,
        oldNotAfter: x.oldNotAfter, newNotAfter: x.newNotAfter,
      };
    } else {
      delete state.entries[e.name];
    }
  }
}
