/** `plan`: what `run` would do now. Reads only; the host is byte-identical afterwards. */
import type { Context } from '../cli/context.js';
import { formatDuration, humanDuration } from '../config/duration.js';
import { readInventory } from '../inventory/read.js';
import { hostPathOf } from '../host/paths.js';
import { decideAll } from '../report/status.js';
import { type RenewalPlan, buildPlan } from '../renew/plan.js';
import { readState } from '../renew/state.js';
import { renderTable } from '../report/table.js';

export const PLAN_KIND = 'RenewalPlan';

export function planReport(plan: RenewalPlan, ctx: Context, now: Date): object {
  const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    apiVersion: 'kube-cert-renewer.io/v1alpha1',
    kind: PLAN_KIND,
    generatedAt: iso(now),
    mode: ctx.config.mode,
    validity: formatDuration(ctx.config.validity),
    renew: plan.items.map((i) => ({
      name: i.name,
      reasons: i.reasons,
      why: i.why,
      oldNotAfter: iso(i.oldNotAfter),
      newNotAfter: iso(i.newNotAfter),
      cappedByCa: i.cappedByCa,
      files: i.files.map((f) => hostPathOf(ctx.root, f)),
      restarts: i.restarts,
    })),
    restarts: ctx.config.restart.enabled ? plan.restarts : [],
    skipped: plan.skipped,
  };
}

export function printPlan(plan: RenewalPlan, ctx: Context): string {
  if (plan.items.length === 0) {
    const out = ['Nothing to renew.'];
    for (const s of plan.skipped.filter((x) => x.failure || x.due)) out.push(`  ${s.name}: ${s.why}`);
    return `${out.join('\n')}\n`;
  }
  const rows = plan.items.map((i) => [
    i.name,
    i.reasons.join(','),
    `${i.oldNotAfter.toISOString().slice(0, 10)} → ${i.newNotAfter.toISOString().slice(0, 10)}${i.cappedByCa ? ' (CA cap)' : ''}`,
    i.files.map((f) => hostPathOf(ctx.root, f)).join(' '),
    i.restarts.join(',') || '-',
  ]);
  const out = [renderTable(['RENEW', 'WHY', 'NOT AFTER (OLD → NEW)', 'FILES', 'RESTARTS'], rows)];
  const restarts = ctx.config.restart.enabled ? plan.restarts.join(', ') || 'nothing' : 'nothing (restart.enabled is false)';
  out.push(`Restarts, in order: ${restarts}.`);
  out.push(`New certificates are valid for ${humanDuration(ctx.config.validity)}; new keys of the same type.`);
  if (ctx.config.mode === 'monitor') out.push('mode is monitor: run writes nothing.');
  const bad = plan.skipped.filter((s) => s.failure);
  if (bad.length) out.push(`Skipped, needs attention: ${bad.map((s) => `${s.name} (${s.why})`).join('; ')}`);
  return `${out.join('\n')}\n`;
}

export async function planCommand(ctx: Context): Promise<number> {
  const now = ctx.now();
  const inventory = readInventory(ctx.paths);
  const { state, warning } = readState(ctx.paths.stateFile);
  if (warning) ctx.log.warn(warning);
  const plan = buildPlan(inventory, decideAll(inventory, ctx.config, state, now));
  ctx.print(ctx.output === 'json' ? `${JSON.stringify(planReport(plan, ctx, now), null, 2)}\n` : printPlan(plan, ctx));
  return plan.skipped.some((s) => s.failure) ? 1 : 0;
}
