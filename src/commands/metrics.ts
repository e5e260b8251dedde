/**
 * Refresh the metrics textfile (when metrics.textfileDir is set) from the certificates on disk now. A failure to
 * write metrics is logged, never a failure of the command that asked.
 */
import type { Context } from '../cli/context.js';
import { hostPathOf, hostText } from '../host/paths.js';
import { writeMetrics } from '../report/metrics.js';
import type { StatusReport } from '../report/status.js';
import { reportFromHost } from './status.js';
import type { State } from '../apply/state.js';

/** @param report an up-to-date report, when the caller has one; otherwise the host is read again. */
export function refreshMetrics(ctx: Context, state: State, report?: StatusReport): void {
  if (!ctx.paths.metricsDir) return;
  try {
    const current = report ?? reportFromHost(ctx, state);
    const file = writeMetrics(ctx.paths.metricsDir, current, state);
    ctx.log.debug({ file: hostPathOf(ctx.root, file) }, 'metrics written');
  } catch (err) {
    ctx.log.error({ dir: ctx.config.metrics.textfileDir }, `cannot write metrics: ${hostText(ctx.root, (err as Error).message)}`);
  }
}
