/** `plan`: what `run` would do now. Reads only; the host is byte-identical afterwards. */
import type { Context } from '../cli/context.js';
import { hostText } from '../host/paths.js';
import { assertControlPlane } from '../inventory/control-plane.js';
import { readInventory } from '../inventory/read.js';
import { readState } from '../apply/state.js';
import { decideAll } from '../plan/decide.js';
import { buildPlan } from '../plan/plan.js';
import { buildPlanReport, printPlan } from '../report/plan.js';
import { componentActions } from '../restart/actions.js';

export async function planCommand(ctx: Context): Promise<number> {
  const now = ctx.now();
  const inventory = readInventory(ctx.paths);
  assertControlPlane(inventory, ctx.paths);
  const { state, warning } = readState(ctx.paths.stateFile);
  if (warning) ctx.log.warn(hostText(ctx.root, warning));
  const plan = buildPlan(inventory, decideAll(inventory, ctx.config, state, now));
  const actions = componentActions(plan.items.map((i) => i.name), plan.restarts, ctx.config, ctx.paths);
  const report = buildPlanReport(plan, ctx.config, ctx.root, now, actions);
  ctx.print(ctx.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : printPlan(report, ctx.config, ctx.output === 'wide'));
  return plan.skipped.some((s) => s.failure) ? 1 : 0;
}
