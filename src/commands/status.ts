/** `status`: every entry and CA, whether renewal is due and why. Exit 1 when anything is expired or broken. */
import type { Context } from '../cli/context.js';
import { hostText } from '../host/paths.js';
import { assertControlPlane } from '../inventory/control-plane.js';
import { readInventory } from '../inventory/read.js';
import { readTimer } from '../ops/systemd.js';
import { printStatus } from '../report/print-status.js';
import { type State, readState } from '../apply/state.js';
import { decideAll } from '../plan/decide.js';
import { restartedSinceRenewal } from '../restart/pending.js';
import { type StatusReport, type TimerReport, buildStatusReport } from '../report/status.js';

/** Read the host now and decide: the status report of the certificates on disk (read → decide → report). */
export function reportFromHost(ctx: Context, state: State, timer?: TimerReport): StatusReport {
  const inventory = readInventory(ctx.paths);
  assertControlPlane(inventory, ctx.paths);
  const now = ctx.now();
  const decisions = decideAll(inventory, ctx.config, state, now);
  // Restarts owed by a renewal with restarts off that happened anyway (by hand, a reboot) are owed no longer.
  const pending = state.pendingRestarts ?? [];
  const done = new Set(restartedSinceRenewal(pending, ctx.paths));
  const shown: State = done.size ? { ...state, pendingRestarts: pending.filter((p) => !done.has(p.component)) } : state;
  return buildStatusReport({ inventory, decisions, config: ctx.config, state: shown, now, root: ctx.root, ...(timer ? { timer } : {}) });
}

export async function statusReport(ctx: Context): Promise<StatusReport> {
  const { state, warning } = readState(ctx.paths.stateFile);
  if (warning) ctx.log.warn(hostText(ctx.root, warning));
  return reportFromHost(ctx, state, await readTimer(ctx.root));
}

export async function statusCommand(ctx: Context): Promise<number> {
  const report = await statusReport(ctx);
  ctx.print(ctx.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : printStatus(report, ctx.output === 'wide'));
  return report.summary.healthy ? 0 : 1;
}
