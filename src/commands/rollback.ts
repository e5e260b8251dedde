/**
 * `rollback [RUN-ID]`: restore the most recent (or the named) run's backups and bounce what that run bounced; the
 * state (each entry's last renewal, the last run marked rolled back) and the metrics textfile then describe the
 * restored certificates. Temporary files an interrupted process left are removed first.
 */
import type { Context } from '../cli/context.js';
import { hostPathOf } from '../host/paths.js';
import { createNotifier } from '../ops/notify.js';
import { acquireLock } from '../apply/lock.js';
import { chooseRunToRollBack, closeRollback, restartAfterRollback, restoreFilesAndState } from '../apply/rollback.js';
import { readState } from '../apply/state.js';
import { removeTemporaries } from '../apply/temporaries.js';
import { assertRunId, listRuns, readJournal } from '../apply/transaction.js';
import { refreshMetrics } from './metrics.js';
import { applyDeps } from './run.js';

export async function rollbackCommand(ctx: Context, runId: string | undefined, force: boolean): Promise<number> {
  if (runId !== undefined) assertRunId(runId); // before the lock: a bad id changes nothing
  const notify = createNotifier();
  const lock = await acquireLock(ctx.paths.lockFile, 'rollback');
  try {
    for (const file of removeTemporaries(ctx.paths)) ctx.log.warn(`removed ${hostPathOf(ctx.paths.root, file)}, left by an interrupted run`);
    const runs = listRuns(ctx.paths);
    const journal = chooseRunToRollBack(runs, runId ? readJournal(ctx.paths, runId) : undefined, runId, ctx.paths.backups, ctx.now(), force);
    const deps = applyDeps(ctx, notify);
    restoreFilesAndState(journal, runs, deps);
    refreshMetrics(ctx, readState(ctx.paths.stateFile).state); // the metrics describe the restored certificates
    const names = journal.entries.map((e) => e.name);
    ctx.log.warn({ runId: journal.id, entries: names },
      `the restored certificates (${names.join(', ')}) are due again: the next timer run will renew them; ` +
      'to hold it, systemctl stop kube-cert-renewer.timer (and systemctl start kube-cert-renewer.timer when ready)');
    const result = await restartAfterRollback(journal, deps);
    if (!result.ok) {
      ctx.log.error({ component: result.component }, `restored the files of run ${journal.id}, but ${result.component} did not come back: ${result.reason}`);
      return 1; // the journal stays `rolling-back`: the next run or rollback makes the restarts again
    }
    closeRollback(journal, deps);
    return 0;
  } finally {
    lock.release();
  }
}
