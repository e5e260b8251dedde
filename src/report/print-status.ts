/**
 * The status report as the operator reads it in a terminal: kubeadm `certs check-expiration`'s two tables (same
 * columns, order and words) plus DUE, then why each due entry is due, the settings, and problems. Fits 120 columns;
 * `-o wide` adds ISSUED, WHY, RESTARTS and LAST RENEWED.
 */
import type { StatusReport } from './status.js';
import { kubeadmDate, renderTable, residualTime, shortDate, wrap } from './table.js';

type Cert = StatusReport['certificates'][number];
type Ca = StatusReport['certificateAuthorities'][number];

/** kubeadm lists CAs as ca, etcd-ca, front-proxy-ca. */
const CA_ORDER = ['ca', 'etcd-ca', 'front-proxy-ca'];

function whyCell(c: Cert): string {
  if (c.state === 'missing' && c.optional) return 'optional, not present';
  if (c.blocker) return `${c.due ? 'due, ' : ''}not renewable here: ${c.why.split('; ').pop()}`;
  return c.due ? c.why : 'not due';
}

function dueCell(c: Cert): string {
  if (c.state === 'missing' && c.optional) return '-';
  if (c.due) return c.renewable ? 'yes' : 'blocked';
  return 'no';
}

function expiresCells(c: { state: string; notAfter?: string; residualSeconds?: number }): [string, string] {
  if (c.notAfter) return [kubeadmDate(c.notAfter), residualTime(c.residualSeconds ?? 0)];
  return [c.state === 'missing' ? '!MISSING!' : '!UNREADABLE!', ''];
}

function certRow(c: Cert, wide: boolean): string[] {
  const managed = c.externallyManaged ? 'yes' : c.managedBy === 'kubelet' ? 'kubelet' : 'no';
  const [expires, residual] = c.state === 'missing' && c.optional ? ['(not present)', ''] : expiresCells(c);
  const row = [c.name, expires, residual, c.certificateAuthority, managed, dueCell(c)];
  if (wide) row.push(shortDate(c.issuedAt) || '-', whyCell(c), c.restarts.join(',') || '-', c.lastRenewal ? shortDate(c.lastRenewal.renewedAt) : '-');
  return row;
}

function caRow(ca: Ca): string[] {
  const rotate = ca.expired ? 'EXPIRED' : ca.expiring ? 'yes' : ca.notAfter ? 'no' : '-';
  return [ca.name, ...expiresCells(ca), ca.externallyManaged ? 'yes' : 'no', rotate];
}

function settingsLines(r: StatusReport): string[] {
  const p = r.policy;
  const rs = r.restart;
  const lines = [
    `Policy: mode ${p.mode}, renewInterval ${p.renewInterval}, renewBefore ${p.renewBefore}, validity ${p.validity}.`,
    rs.enabled
      ? `Restarts: on, ${rs.verify ? `verified (timeout ${rs.verifyTimeout})` : 'not verified (restart.verify false)'}, annotation ${rs.annotation}.`
      : 'Restarts: off (restart.enabled false): renewed certificates take effect only when their components restart.',
  ];
  for (const pr of r.pendingRestarts) {
    lines.push(wrap(`Still running the old certificates: ${pr.component} (renewed ${pr.entries.join(', ')} in run ${pr.runId} `
      + `while restarts were off). Restart it, or set restart.enabled true and run kube-cert-renewer renew ${pr.entries[0] ?? ''}.`));
  }
  if (r.timer) {
    const t = r.timer;
    lines.push(`Timer ${t.unit} (${t.activeState ?? 'unknown'}): last run ${t.lastTriggerAt ?? 'never'}, next run ${t.nextElapseAt ?? 'not scheduled'}.`);
  }
  if (r.lastRun) {
    const l = r.lastRun;
    lines.push(wrap(`Last run ${l.id}: ${l.result} at ${l.finishedAt}, renewed ${l.renewed.length}, failed ${l.failed.length}.`));
    for (const a of l.actions ?? []) lines.push(wrap(`  ${a.component}: ${a.action === 'reload' ? 'reloaded, not restarted' : 'restarted'} (${a.why})`, 118, '      '));
    if (l.rolledBackAt) lines.push(wrap(`Last run ${l.id} was rolled back at ${l.rolledBackAt}.`));
  }
  return lines;
}

export function printStatus(r: StatusReport, wide = false): string {
  const out: string[] = [];
  const header = ['CERTIFICATE', 'EXPIRES', 'RESIDUAL TIME', 'CERTIFICATE AUTHORITY', 'EXTERNALLY MANAGED', 'DUE'];
  if (wide) header.push('ISSUED', 'WHY', 'RESTARTS', 'LAST RENEWED');
  out.push(renderTable(header, r.certificates.map((c) => certRow(c, wide))));
  const cas = [...r.certificateAuthorities].sort((a, b) => CA_ORDER.indexOf(a.name) - CA_ORDER.indexOf(b.name));
  out.push(renderTable(['CERTIFICATE AUTHORITY', 'EXPIRES', 'RESIDUAL TIME', 'EXTERNALLY MANAGED', 'ROTATE'], cas.map(caRow)));
  const due = r.certificates.filter((c) => c.due || c.blocker === 'key-problem');
  if (!wide && due.length > 0) {
    out.push(`Due (${due.length}):\n${due.map((c) => wrap(`  ${c.name}: ${whyCell(c)}`, 118, '      ')).join('\n')}\n`);
  }
  out.push(`${settingsLines(r).join('\n')}\n`);
  if (r.problems.length > 0) {
    out.push(
      `Problems (${r.problems.length}):\n` +
        r.problems.map((pr) => `${wrap(`  ${pr.entry}: ${pr.file}: ${pr.message}`, 118, '      ')}\n${wrap(`    → ${pr.hint}`, 118, '      ')}`).join('\n') +
        '\n',
    );
  }
  return out.join('\n');
}
