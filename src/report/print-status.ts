/** The status report as the operator reads it in a terminal. */
import { humanDuration } from '../config/duration.js';
import type { StatusReport } from './status.js';
import { kubeadmDate, renderTable, shortDate } from './table.js';

function dueCell(c: StatusReport['certificates'][number]): string {
  if (c.state === 'missing' && c.optional) return 'no (optional, not present)';
  if (c.blocker) return `${c.due ? 'due, ' : ''}not renewable here: ${c.why.split('; ').pop()}`;
  if (!c.due) return 'no';
  return `yes: ${c.why}`;
}

export function printStatus(r: StatusReport): string {
  const out: string[] = [];
  const certRows = r.certificates.map((c) => {
    if (c.state === 'missing' || !c.notAfter) {
      const what = c.state === 'missing' ? (c.optional ? '(not present)' : 'MISSING!') : 'UNREADABLE!';
      return [c.name, what, '', c.certificateAuthority, c.externallyManaged ? 'yes' : 'no', '', dueCell(c), c.restarts.join(',') || '-', ''];
    }
    return [
      c.name,
      kubeadmDate(c.notAfter),
      humanDuration((c.residualSeconds ?? 0) * 1000),
      c.certificateAuthority,
      c.externallyManaged ? 'yes' : c.managedBy === 'kubelet' ? 'kubelet' : 'no',
      shortDate(c.issuedAt),
      dueCell(c),
      c.restarts.join(',') || '-',
      c.lastRenewal ? shortDate(c.lastRenewal.renewedAt) : '-',
    ];
  });
  out.push(
    renderTable(
      ['CERTIFICATE', 'EXPIRES', 'RESIDUAL TIME', 'CERTIFICATE AUTHORITY', 'EXTERNALLY MANAGED', 'ISSUED', 'DUE', 'RESTARTS', 'LAST RENEWED'],
      certRows,
    ),
  );
  const caRows = r.certificateAuthorities.map((ca) =>
    ca.notAfter
      ? [ca.name, kubeadmDate(ca.notAfter), humanDuration((ca.residualSeconds ?? 0) * 1000), ca.externallyManaged ? 'yes' : 'no']
      : [ca.name, ca.state === 'missing' ? 'MISSING!' : 'UNREADABLE!', '', 'no'],
  );
  out.push(renderTable(['CERTIFICATE AUTHORITY', 'EXPIRES', 'RESIDUAL TIME', 'EXTERNALLY MANAGED'], caRows));

  const p = r.policy;
  const facts = [
    `Policy: mode ${p.mode}, renewInterval ${p.renewInterval}, renewBefore ${p.renewBefore}, validity ${p.validity}.`,
  ];
  if (r.timer) {
    const last = r.timer.lastTriggerAt ? r.timer.lastTriggerAt : 'never';
    const next = r.timer.nextElapseAt ? r.timer.nextElapseAt : 'not scheduled';
    facts.push(`Timer ${r.timer.unit} (${r.timer.activeState ?? 'unknown'}): last run ${last}, next run ${next}.`);
  }
  if (r.lastRun) {
    facts.push(`Last run ${r.lastRun.id}: ${r.lastRun.result} at ${r.lastRun.finishedAt}, renewed ${r.lastRun.renewed.length}, failed ${r.lastRun.failed.length}.`);
    if (r.lastRun.rolledBackAt) facts.push(`Last run ${r.lastRun.id} was rolled back at ${r.lastRun.rolledBackAt}.`);
  }
  out.push(facts.join('\n') + '\n');
  if (r.problems.length > 0) {
    out.push(
      `Problems (${r.problems.length}):\n` +
        r.problems.map((pr) => `  ${pr.entry}: ${pr.file}: ${pr.message}\n    → ${pr.hint}`).join('\n') +
        '\n',
    );
  }
  return out.join('\n');
}
