/**
 * `rollback [RUN-ID]`: restore the last (or the named) run's backups and bounce what that run bounced; the state
 * (each entry's last renewal) and the metrics textfile then describe the restored certificates.
 */
import type { Context } from '../cli/context.js';
import { RunFailedError, UsageError } from '../errors.js';
import { createNotifier } from '../ops/notify.js';
import { acquireLock } from '../apply/lock.js';
import { type State, readState, writeState } from '../apply/state.js';
import { type Journal, assertRunId, listRuns, readJournal, restoreRun, writeJournal } from '../apply/transaction.js';
import { bounceInOrder, inRestartOrder } from '../restart/sequence.js';
import { refreshMetrics } from './metrics.js';

/**
 * After restoring `journal`'s backups, each entry's last renewal is the one that issued the restored certificate:
 * the latest earlier run whose new serial is the serial now back in place, or none (kubeadm issued it).
 */
function rememberRestored(state: State, journal: Journal, runs: Journal[]): void {
  const earlier = runs.filter((j) => j.id < journal.id && j.phase !== 'rolled-back' && j.phase !== 'prepared').reverse();
  for (const e of journal.entries) {
    const from = earlier.find((j) => j.entries.some((x) => x.name === e.name && x.newSerial === e.oldSerial));
    const x = from?.entries.find((y) => y.name === e.name);
    if (from && x) {
      state.entries[e.name] = {
        renewedAt: from.startedAt, runId: from.id, oldSerial: x.oldSerial, newSerial: x.newSerial, oldNotAfter: x.oldNotAfter, newNotAfter: x.newNotAfter,
      };
    } else {
      delete state.entries[e.name];
    }
  }
}

export async function rollbackCommand(ctx: Context, runId: string | undefined, force: boolean): Promise<number> {
  if (runId !== undefined) assertRunId(runId); // before the lock: a bad id changes nothing
  const lock = await acquireLock(ctx.paths.lockFile, 'rollback');
  try {
    const runs = listRuns(ctx.paths);
    const journal = runId
      ? readJournal(ctx.paths, runId)
      : [...runs].reverse().find((j) => j.phase !== 'rolled-back' && j.phase !== 'prepared' && j.entries.length > 0);
    if (!journal) {
      const known = runs.map((j) => `${j.id} (${j.phase})`).join(', ') || 'none';
      throw new UsageError(runId ? `no run ${runId} in ${ctx.paths.backups}` : `no run to roll back in ${ctx.paths.backups}`, `runs on record: ${known}`);
    }
    if (journal.phase === 'rolled-back') throw new RunFailedError(`run ${journal.id} is already rolled back`);
    if (journal.phase === 'prepared') throw new RunFailedError(`run ${journal.id} never wrote its files`, 'run `kube-cert-renewer run` to finish it');
    const now = ctx.now().getTime();
    const expired = journal.entries.filter((e) => Date.parse(e.oldNotAfter) <= now);
    if (expired.length && !force) {
      throw new RunFailedError(
        `the certificates run ${journal.id} replaced have expired: ${expired.map((e) => e.name).join(', ')}`,
        'restoring them would break the cluster; pass --force to do it anyway',
      );
    }
    const newer = runs.filter((j) => j.id > journal.id && j.phase !== 'rolled-back' && j.entries.some((e) => journal.entries.some((x) => x.name === e.name)));
    if (newer.length && !force) {
      throw new RunFailedError(
        `later runs renewed the same entries: ${newer.map((j) => j.id).join(', ')}`,
        'roll those back first, or pass --force',
      );
    }
    ctx.log.warn({ runId: journal.id, entries: journal.entries.map((e) => e.name) }, `rolling back run ${journal.id}`);
    restoreRun(ctx.paths, journal);
    const { state } = readState(ctx.paths.stateFile);
    rememberRestored(state, journal, runs);
    writeState(ctx.paths.stateFile, state);
    journal.phase = 'rolled-back';
    writeJournal(ctx.paths, journal);
    refreshMetrics(ctx, state); // the metrics must describe the restored certificates, not the rolled-back ones
    const components = inRestartOrder(journal.restarted.length ? journal.restarted : journal.restarts);
    if (!ctx.config.restart.enabled || components.length === 0) {
      ctx.log.info({ runId: journal.id }, `restored ${journal.entries.length} entries; nothing to restart`);
      return 0;
    }
    const result = await bounceInOrder(ctx, createNotifier(), components, () => undefined);
    if (!result.ok) {
      ctx.log.error({ component: result.component }, `restored the files of run ${journal.id}, but ${result.component} did not come back: ${result.reason}`);
      return 1;
    }
    ctx.log.info({ runId: journal.id, restarted: components }, `rolled back run ${journal.id}`);
    return 0;
  } finally {
    lock.release();
  }
}
