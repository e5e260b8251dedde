/**
 * Prometheus textfile (node_exporter's textfile collector): kube_cert_renewer.prom, replaced atomically. Per-entry
 * expiry uses x509-certificate-exporter's metric names so existing alerts and dashboards apply.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../host/atomic.js';
import { hostPathOf } from '../host/paths.js';
import type { StatusReport } from './status.js';
import type { State } from '../apply/state.js';

export const METRICS_FILE = 'kube_cert_renewer.prom';

function escape(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(l: Record<string, string>): string {
  return `{${Object.entries(l).map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;
}

const seconds = (iso: string | undefined): number | undefined => (iso ? Math.floor(Date.parse(iso) / 1000) : undefined);

export function renderMetrics(report: StatusReport, state: State, root: string): string {
  const out: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, samples: Array<[Record<string, string>, number]>): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, v] of samples) out.push(`${name}${Object.keys(l).length ? labels(l) : ''} ${v}`);
  };
  const present = [
    ...report.certificates.filter((c) => c.notAfter).map((c) => ({ name: c.name, path: c.path, ca: c.certificateAuthority, notBefore: c.notBefore, notAfter: c.notAfter, c })),
    ...report.certificateAuthorities.filter((c) => c.notAfter).map((c) => ({ name: c.name, path: c.path, ca: c.name, notBefore: c.notBefore, notAfter: c.notAfter, c: undefined })),
  ];
  const certLabels = (p: (typeof present)[number]): Record<string, string> => ({
    name: p.name, path: hostPathOf(root, p.path), issuer: p.ca,
  });
  metric('x509_cert_not_after', 'gauge', 'Certificate expiry as Unix time (seconds).',
    present.map((p) => [certLabels(p), seconds(p.notAfter) ?? 0]));
  metric('x509_cert_not_before', 'gauge', 'Certificate start of validity as Unix time (seconds).',
    present.map((p) => [certLabels(p), seconds(p.notBefore) ?? 0]));
  metric('x509_cert_expired', 'gauge', '1 when the certificate has expired.',
    present.map((p) => [certLabels(p), Date.parse(p.notAfter ?? '') <= Date.parse(report.generatedAt) ? 1 : 0]));
  metric('kube_cert_renewer_renewal_due', 'gauge', '1 when renewal of the entry is due.',
    report.certificates.filter((c) => c.state === 'present').map((c) => [{ name: c.name }, c.due ? 1 : 0]));
  metric('kube_cert_renewer_entry_problems', 'gauge', 'Problems found on the entry (unreadable, key mismatch, wrong CA, ...).',
    report.certificates.map((c) => [{ name: c.name }, c.problems.length]));
  const lastRun = seconds(state.lastRun?.finishedAt);
  if (lastRun !== undefined) {
    metric('kube_cert_renewer_last_run_timestamp_seconds', 'gauge', 'When the last run finished.', [[{}, lastRun]]);
    metric('kube_cert_renewer_last_run_success', 'gauge', '1 when the last run succeeded.', [[{}, state.lastRun?.result === 'success' ? 1 : 0]]);
  }
  const lastSuccess = seconds(state.lastSuccessAt);
  if (lastSuccess !== undefined) {
    metric('kube_cert_renewer_last_success_timestamp_seconds', 'gauge', 'When the last successful run finished.', [[{}, lastSuccess]]);
  }
  metric('kube_cert_renewer_renewals_total', 'counter', 'Certificates renewed, by entry.',
    Object.entries(state.renewalsTotal).map(([name, n]) => [{ name }, n]));
  metric('kube_cert_renewer_failures_total', 'counter', 'Runs that failed.', [[{}, state.failuresTotal]]);
  metric('kube_cert_renewer_runs_total', 'counter', 'Runs recorded.', [[{}, state.runsTotal]]);
  return `${out.join('\n')}\n`;
}

export function writeMetrics(dir: string, report: StatusReport, state: State, root: string): string {
  const file = join(dir, METRICS_FILE);
  writeFileAtomic(file, renderMetrics(report, state, root), 0o644, { mkdirMode: 0o755 });
  return file;
}
