/**
 * Roll back one finished run: restore its backups (bytes, mode, owner), make the state describe the restored
 * certificates (the same undo the automatic rollback uses), mark the journal, and bounce what the run bounced. The
 * caller holds the run lock and has checked that rolling back is safe.
 */
import { RunFailedError, UsageError } from '../errors.js';
import { inRestartOrder, serveRestored } from '../restart/sequence.js';
import type { ApplyDeps } from './deps.js';
import { readState, writeState } from './state.js';
import { faultPoint } from '../host/faults.js';
import { type Journal, closeRun, restoreRun, writeJournal } from './transaction.js';
import { undoRenewals } from './undo.js';

/** Runs that wrote (or were about to write) files: not the ones discarded unwritten after a crash. */
const wroteFiles = (j: Journal): boolean => j.entries.length > 0 && j.discarded === undefined;

/**
 * The run to roll back: the named one (`named`, read from its journal), or the most recent run that wrote files —
 * only that one: once it is rolled back, an earlier run must be named. Refuses, unless forced, when the
 * certificates it replaced have expired or a later run renewed the same entries.
 */
export function chooseRunToRollBack(
  runs: Journal[], named: Journal | undefined, runId: string | undefined, backups: string, now: Date, force: boolean,
): Journal {
  const journal = runId ? named : [...runs].reverse().find(wroteFiles);
  if (!journal) {
    const known = runs.map((j) => `${j.id} (${j.phase})`).join(', ') || 'none';
    throw new UsageError(runId ? `no run ${runId} in ${backups}` : `no run to roll back in ${backups}`, `runs on record: ${known}`);
  }
  if (journal.phase === 'rolled-back') {
    const earlier = runs.filter((j) => j.id < journal.id && wroteFiles(j) && j.phase !== 'rolled-back').map((j) => j.id);
    throw new RunFailedError(
      `${runId ? 'run' : 'the most recent run,'} ${journal.id}${runId ? '' : ','} is already rolled back`,
      earlier.length
        ? `to roll back an earlier run, name it: kube-cert-renewer rollback ${earlier[earlier.length - 1]} (kube-cert-renewer history lists them all)`
        : 'no earlier run can be rolled back (kube-cert-renewer history lists the runs)',
    );
  }
  if (journal.discarded !== undefined) throw new RunFailedError(`run ${journal.id} never wrote its files: ${journal.discarded}`);
  if (journal.phase === 'prepared') throw new RunFailedError(`run ${journal.id} never wrote its files`, 'run `kube-cert-renewer run` to finish it');
  const expired = journal.entries.filter((e) => Date.parse(e.oldNotAfter) <= now.getTime());
  if (expired.length && !force) {
    throw new RunFailedError(
      `the certificates run ${journal.id} replaced have expired: ${expired.map((e) => e.name).join(', ')}`,
      'restoring them would break the cluster; pass --force to do it anyway',
    );
  }
  const newer = runs.filter((j) => j.id > journal.id && j.phase !== 'rolled-back' && j.entries.some((e) => journal.entries.some((x) => x.name === e.name)));
  if (newer.length && !force) {
    throw new RunFailedError(`later runs renewed the same entries: ${newer.map((j) => j.id).join(', ')}`, 'roll those back first, or pass --force');
  }
  return journal;
}

export type RollbackOutcome = { ok: true; restarted: string[] } | { ok: false; component: string; reason: string };

/** Restore `journal`'s files and state. `runs` are every journaled run, for the state undo. */
export function restoreFilesAndState(journal: Journal, runs: Journal[], deps: ApplyDeps): void {
  deps.log.warn({ runId: journal.id, entries: journal.entries.map((e) => e.name) }, `rolling back run ${journal.id}`);
  restoreRun(deps.paths, journal);
  const { state } = readState(deps.paths.stateFile);
  undoRenewals(state, journal, runs);
  if (state.lastRun?.id === journal.id) state.lastRun.rolledBackAt = deps.now().toISOString();
  writeState(deps.paths.stateFile, state);
  faultPoint('state');
  journal.rolledBackAt = deps.now().toISOString();
  writeJournal(deps.paths, journal); // still `rolling-back`: closed once the restarts are made (closeRollback)
}

/** The rollback is complete (files, state, restarts): the journal says `rolled-back`. */
export function closeRollback(journal: Journal, deps: ApplyDeps): void {
  closeRun(deps.paths, journal, 'rolled-back');
}

/** Bounce, in order, what the rolled-back run bounced (or would have), so the restored certificates are served. */
export async function restartAfterRollback(journal: Journal, deps: ApplyDeps): Promise<RollbackOutcome> {
  // a run that recorded its actions reloaded some components and restarted others: every one of them
  const components = inRestartOrder(journal.actions?.map((a) => a.component) ?? (journal.restarted.length ? journal.restarted : journal.restarts));
  if (!deps.config.restart.enabled || components.length === 0) {
    deps.log.info({ runId: journal.id }, `restored ${journal.entries.length} entries; nothing to restart`);
    return { ok: true, restarted: [] };
  }
  const result = await serveRestored(deps, journal, components);
  if (!result.ok) return { ok: false, component: result.component, reason: result.reason };
  deps.log.info({ runId: journal.id, restarted: components }, `rolled back run ${journal.id}`);
  return { ok: true, restarted: components };
}
