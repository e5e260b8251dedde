/**
 * Refresh the metrics textfile (when metrics.textfileDir is set) from the certificates on disk now. A failure to
 * write metrics is logged, never a failure of the command that asked.
 */
import type { Context } from '../cli/context.js';
import { readInventory } from '../inventory/read.js';
import { writeMetrics } from '../ops/metrics.js';
import { type StatusReport, buildStatusReport } from '../report/status.js';
import type { State } from '../renew/state.js';

/** @param report an up-to-date report, when the caller has one; otherwise the host is read again. */
export function refreshMetrics(ctx: Context, state: State, report?: StatusReport): void {
  if (!ctx.paths.metricsDir) return;
  try {
    const current = report ?? buildStatusReport({ inventory: readInventory(ctx.paths), config: ctx.config, state, now: ctx.now(), root: ctx.root });
    const file = writeMetrics(ctx.paths.metricsDir, current, state, ctx.root);
    ctx.log.debug({ file }, 'metrics written');
  } catch (err) {
    ctx.log.error({ dir: ctx.paths.metricsDir }, `cannot write metrics: ${(err as Error).message}`);
  }
}
