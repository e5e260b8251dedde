/** A run's summary in the state file (lastRun, counters) and the one line the journal and `systemctl status` show. */
import type { RunOutcome } from './run.js';
import type { State } from './state.js';
import { newRunId } from './transaction.js';

export interface RunRecord {
  command: string;
  startedAt: Date;
  finishedAt: Date;
  outcome: RunOutcome;
  /** Post-renew hooks that failed. */
  hooksFailed: number;
}

/** Record the run in `state`; returns whether it succeeded and its summary line. */
export function recordRun(state: State, r: RunRecord): { ok: boolean; summary: string; failed: string[] } {
  const { outcome } = r;
  const failed = r.hooksFailed ? [...outcome.failed, 'hooks'] : outcome.failed;
  const ok = outcome.result === 'success' && failed.length === 0;
  state.lastRun = {
    id: outcome.runId ?? newRunId(r.startedAt),
    command: r.command, startedAt: r.startedAt.toISOString(), finishedAt: r.finishedAt.toISOString(),
    result: ok ? 'success' : outcome.result === 'success' ? 'failure' : outcome.result,
    renewed: outcome.renewed, failed, restarted: outcome.restarted,
    ...(outcome.actions?.length ? { actions: outcome.actions } : {}),
  };
  state.runsTotal += 1;
  if (ok) state.lastSuccessAt = r.finishedAt.toISOString();
  else state.failuresTotal += 1;
  const summary = `${ok ? 'run succeeded' : 'run failed'}: renewed ${outcome.renewed.length}, restarted ${outcome.restarted.length}, failed ${failed.length}`;
  return { ok, summary, failed };
}
