/** `status`: every entry and CA, whether renewal is due and why. Exit 1 when anything is expired or broken. */
import type { Context } from '../cli/context.js';
import { readInventory } from '../inventory/read.js';
import { readTimer } from '../ops/systemd.js';
import { printStatus } from '../report/print-status.js';
import { buildStatusReport, type StatusReport } from '../report/status.js';
import { readState } from '../renew/state.js';

export async function statusReport(ctx: Context): Promise<StatusReport> {
  const inventory = readInventory(ctx.paths);
  const { state, warning } = readState(ctx.paths.stateFile);
  if (warning) ctx.log.warn(warning);
  const timer = await readTimer(ctx.root);
  return buildStatusReport({ inventory, config: ctx.config, state, now: ctx.now(), root: ctx.root, ...(timer ? { timer } : {}) });
}

export async function statusCommand(ctx: Context): Promise<number> {
  const report = await statusReport(ctx);
  ctx.print(ctx.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : printStatus(report));
  return report.summary.healthy ? 0 : 1;
}
