/**
 * `rollback [RUN-ID]`: restore the last (or the named) run's backups and bounce what that run bounced; the state
 * (each entry's last renewal) and the metrics textfile then describe the restored certificates.
 */
import type { Context } from '../cli/context.js';
import { createNotifier } from '../ops/notify.js';
import { acquireLock } from '../apply/lock.js';
import { chooseRunToRollBack, restartAfterRollback, restoreFilesAndState } from '../apply/rollback.js';
import { readState } from '../apply/state.js';
import { assertRunId, listRuns, readJournal } from '../apply/transaction.js';
import { refreshMetrics } from './metrics.js';
import { applyDeps } from './run.js';

export async function rollbackCommand(ctx: Context, runId: string | undefined, force: boolean): Promise<number> {
  if (runId !== undefined) assertRunId(runId); // before the lock: a bad id changes nothing
  const lock = await acquireLock(ctx.paths.lockFile, 'rollback');
  try {
    const runs = listRuns(ctx.paths);
    const journal = chooseRunToRollBack(runs, runId ? readJournal(ctx.paths, runId) : undefined, runId, ctx.paths.backups, ctx.now(), force);
    const deps = applyDeps(ctx, createNotifier());
    restoreFilesAndState(journal, runs, deps);
    refreshMetrics(ctx, readState(ctx.paths.stateFile).state); // the metrics describe the restored certificates
    const result = await restartAfterRollback(journal, deps);
    if (!result.ok) {
      ctx.log.error({ component: result.component }, `restored the files of run ${journal.id}, but ${result.component} did not come back: ${result.reason}`);
      return 1;
    }
    return 0;
  } finally {
    lock.release();
  }
}
