/**
 * Prometheus textfile (node_exporter's textfile collector): kube_cert_renewer.prom, replaced atomically. Per-entry
 * expiry uses x509-certificate-exporter's metric families and label names (v4 pkg/registry/labels.go: filename,
 * filepath, embedded_kind, embedded_key, serial_number in decimal, issuer_C…issuer_CN, subject_C…subject_CN) so its
 * Helm chart's alerts and dashboards work unchanged; `name` adds kubeadm's entry name.
 */
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../host/atomic.js';
import type { StatusReport } from './status.js';
import type { State } from '../apply/state.js';

export const METRICS_FILE = 'kube_cert_renewer.prom';

/** The exporter's distinguished-name fields, in its order. */
const DN_FIELDS = ['C', 'ST', 'L', 'O', 'OU', 'CN'] as const;

function escape(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(l: Record<string, string>): string {
  return `{${Object.entries(l).map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;
}

const seconds = (iso: string | undefined): number | undefined => (iso ? Math.floor(Date.parse(iso) / 1000) : undefined);

/**
 * The first value of each field of a name as the report writes it (RFC 4514 text, most specific first, so the
 * certificate's first attribute of a type is the last one in the text). Go's pkix.Name gives the exporter the same.
 */
export function dnLabels(prefix: 'subject' | 'issuer', text: string | undefined): Record<string, string> {
  const found: Record<string, string> = {};
  for (const part of (text ?? '').match(/(?:[^,\\]|\\.)+/g) ?? []) {
    const eq = part.indexOf('=');
    if (eq > 0) found[part.slice(0, eq)] = part.slice(eq + 1).replace(/\\(.)/g, '$1');
  }
  return Object.fromEntries(DN_FIELDS.map((f) => [`${prefix}_${f}`, found[f] ?? '']));
}

function decimalSerial(hex: string | undefined): string {
  if (!hex || !/^[0-9a-fA-F]+$/.test(hex)) return '';
  return BigInt(`0x${hex}`).toString(10);
}

interface Series {
  name: string;
  labels: Record<string, string>;
  notBefore?: string;
  notAfter?: string;
}

/**
 * One series per certificate. A kubeconfig's client certificate is labelled with the kubeconfig's path and its user
 * (embedded_kind/embedded_key), as the exporter's kubeconfig source does, so kubelet.conf keeps one series while the
 * kubelet rotates kubelet-client-<date>.pem behind it.
 */
function certificateSeries(report: StatusReport): Series[] {
  const leaves = report.certificates.filter((c) => c.notAfter).map((c): Series => {
    const filepath = c.kind === 'kubeconfig' ? (c.files[0] ?? c.path) : c.path;
    return {
      name: c.name, notBefore: c.notBefore, notAfter: c.notAfter,
      labels: {
        name: c.name, filename: basename(filepath), filepath,
        embedded_kind: c.kind === 'kubeconfig' ? 'user' : '', embedded_key: c.kind === 'kubeconfig' ? (c.kubeconfigUser ?? '') : '',
        serial_number: decimalSerial(c.serial), ...dnLabels('issuer', c.issuer), ...dnLabels('subject', c.subject),
      },
    };
  });
  const cas = report.certificateAuthorities.filter((c) => c.notAfter).map((c): Series => ({
    name: c.name, notBefore: c.notBefore, notAfter: c.notAfter,
    labels: {
      name: c.name, filename: basename(c.path), filepath: c.path, embedded_kind: '', embedded_key: '',
      serial_number: decimalSerial(c.serial), ...dnLabels('issuer', c.issuer), ...dnLabels('subject', c.subject),
    },
  }));
  return [...leaves, ...cas];
}

/** Certificates that should be there and could not be read (the exporter's x509_read_errors). */
function readErrors(report: StatusReport): number {
  const leaves = report.certificates.filter((c) => c.state === 'unreadable' || (c.state === 'missing' && !c.optional)).length;
  return leaves + report.certificateAuthorities.filter((c) => c.state === 'unreadable' || c.state === 'missing').length;
}

export function renderMetrics(report: StatusReport, state: State): string {
  const out: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, samples: Array<[Record<string, string>, number]>): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, v] of samples) out.push(`${name}${Object.keys(l).length ? labels(l) : ''} ${v}`);
  };
  const series = certificateSeries(report);
  const now = Date.parse(report.generatedAt);
  metric('x509_cert_not_after', 'gauge', 'Unix timestamp of the certificate\'s NotAfter.', series.map((s) => [s.labels, seconds(s.notAfter) ?? 0]));
  metric('x509_cert_not_before', 'gauge', 'Unix timestamp of the certificate\'s NotBefore.', series.map((s) => [s.labels, seconds(s.notBefore) ?? 0]));
  metric('x509_cert_expired', 'gauge', '1 if the certificate is expired, 0 otherwise.',
    series.map((s) => [s.labels, Date.parse(s.notAfter ?? '') <= now ? 1 : 0]));
  metric('x509_read_errors', 'gauge', 'Certificates that should exist and could not be read.', [[{}, readErrors(report)]]);
  metric('kube_cert_renewer_renewal_due', 'gauge', '1 when renewal of the entry is due.',
    report.certificates.filter((c) => c.state === 'present').map((c) => [{ name: c.name }, c.due ? 1 : 0]));
  metric('kube_cert_renewer_entry_problems', 'gauge', 'Problems found on the entry (unreadable, key mismatch, wrong CA, CA expiring, ...).',
    [...report.certificates, ...report.certificateAuthorities].map((c) => [{ name: c.name }, c.problems.length]));
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

export function writeMetrics(dir: string, report: StatusReport, state: State): string {
  const file = join(dir, METRICS_FILE);
  writeFileAtomic(file, renderMetrics(report, state), 0o644, { mkdirMode: 0o755 });
  return file;
}
