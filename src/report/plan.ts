/**
 * The plan report: what `run` would do now, as a plain versioned object (kind RenewalPlan) and as a table. The JSON
 * is a contract for Ansible and automation (schemas/renewal-plan.schema.json).
 */
import type { Config } from '../config/config.js';
import { formatDuration, humanDuration } from '../config/duration.js';
import { hostPathOf } from '../host/paths.js';
import type { Component } from '../catalog.js';
import type { ComponentAction } from '../components.js';
import type { RenewalPlan, SkippedItem } from '../plan/plan.js';
import type { DueReason } from '../plan/policy.js';
import { renderTable, wrap } from './table.js';

export const PLAN_API_VERSION = 'kube-cert-renewer.io/v1alpha1';
export const PLAN_KIND = 'RenewalPlan';

export interface PlannedRenewalReport {
  name: string;
  reasons: DueReason[];
  why: string;
  oldNotAfter: string;
  newNotAfter: string;
  cappedByCa: boolean;
  /** Host paths of every file the renewal rewrites. */
  files: string[];
  restarts: Component[];
}

export interface PlanReport {
  apiVersion: typeof PLAN_API_VERSION;
  kind: typeof PLAN_KIND;
  generatedAt: string;
  mode: Config['mode'];
  validity: string;
  renew: PlannedRenewalReport[];
  /** Components a run would restart, in order (empty when restart.enabled is false). */
  restarts: Component[];
  /** Per component in `restarts`: whether it picks the renewed files up by itself (reload) or is restarted, and why. */
  components?: Array<{ component: Component; action: ComponentAction['action']; why: string }>;
  skipped: SkippedItem[];
}

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function buildPlanReport(plan: RenewalPlan, config: Config, root: string, now: Date, actions?: ComponentAction[]): PlanReport {
  return {
    apiVersion: PLAN_API_VERSION,
    kind: PLAN_KIND,
    generatedAt: iso(now),
    mode: config.mode,
    validity: formatDuration(config.validity),
    renew: plan.items.map((i) => ({
      name: i.name,
      reasons: i.reasons,
      why: i.why,
      oldNotAfter: iso(i.oldNotAfter),
      newNotAfter: iso(i.newNotAfter),
      cappedByCa: i.cappedByCa,
      files: i.files.map((f) => hostPathOf(root, f)),
      restarts: i.restarts,
    })),
    restarts: config.restart.enabled ? plan.restarts : [],
    ...(config.restart.enabled && actions ? { components: actions.map(({ component, action, why }) => ({ component, action, why })) } : {}),
    skipped: plan.skipped,
  };
}

export function printPlan(report: PlanReport, config: Config, wide = false): string {
  if (report.renew.length === 0) {
    const out = ['Nothing to renew.'];
    for (const s of report.skipped.filter((x) => x.failure || x.due)) out.push(wrap(`  ${s.name}: ${s.why}`, 118, '      '));
    return `${out.join('\n')}\n`;
  }
  const rows = report.renew.map((i) => {
    const row = [
      i.name,
      i.reasons.join(','),
      `${i.oldNotAfter.slice(0, 10)} → ${i.newNotAfter.slice(0, 10)}${i.cappedByCa ? ' (CA cap)' : ''}`,
      i.restarts.join(',') || '-',
    ];
    if (wide) row.push(i.files.join(' '));
    return row;
  });
  const header = ['RENEW', 'WHY', 'NOT AFTER (OLD → NEW)', 'RESTARTS', ...(wide ? ['FILES'] : [])];
  const out = [renderTable(header, rows)];
  const restarts = config.restart.enabled ? report.restarts.join(', ') || 'nothing' : 'nothing (restart.enabled is false)';
  out.push(`Restarts, in order: ${restarts}.`);
  for (const c of report.components ?? []) out.push(wrap(`  ${c.component}: ${c.action} (${c.why})`, 118, '      '));
  out.push(validityLine(report, config));
  if (config.mode === 'monitor') out.push('mode is monitor: run writes nothing.');
  const bad = report.skipped.filter((s) => s.failure);
  if (bad.length) out.push(wrap(`Skipped, needs attention: ${bad.map((s) => `${s.name} (${s.why})`).join('; ')}`));
  return `${out.join('\n')}\n`;
}

/** The footer's validity, agreeing with the rows: certificates capped at their CA's expiry are named with the date. */
function validityLine(report: PlanReport, config: Config): string {
  const full = report.renew.filter((i) => !i.cappedByCa).length;
  const capped = new Map<string, string[]>();
  for (const i of report.renew.filter((x) => x.cappedByCa)) capped.set(i.newNotAfter.slice(0, 10), [...(capped.get(i.newNotAfter.slice(0, 10)) ?? []), i.name]);
  if (capped.size === 0) return `New certificates are valid for ${humanDuration(config.validity)}; new keys of the same type.`;
  const parts = [...capped].map(([date, names]) => `${names.length} until ${date}, their CA's expiry (${names.join(', ')})`);
  const lead = full > 0 ? `New certificates: ${full} valid for ${humanDuration(config.validity)}; ` : 'New certificates: ';
  return wrap(`${lead}${parts.join('; ')}: validity capped by the CA, which needs rotating. New keys of the same type.`);
}
