/**
 * Finish what an interrupted run left: roll forward a run that died between staging and committing (its staged
 * files are complete and were checked before staging), and collect every run whose restarts are still owed.
 */
import type { ApplyDeps } from './deps.js';
import { type Journal, commitRun, interruptedRuns, listRuns } from './transaction.js';

/** Roll forward runs that died between staging and committing, and return every run whose restarts are owed. */
export function recoverInterruptedRuns(deps: ApplyDeps): Journal[] {
  const owed: Journal[] = [];
  for (const journal of interruptedRuns(deps.paths)) {
    deps.log.warn({ runId: journal.id, entries: journal.entries.map((e) => e.name) },
      'finishing a run that was interrupted before all its files were written');
    commitRun(deps.paths, journal);
    owed.push(journal);
  }
  for (const journal of listRuns(deps.paths)) {
    if ((journal.phase === 'committed' || journal.phase === 'restarting') && !owed.some((j) => j.id === journal.id)) {
      deps.log.warn({ runId: journal.id, restarts: journal.restarts }, 'finishing the restarts of an interrupted run');
      owed.push(journal);
    }
  }
  return owed;
}
