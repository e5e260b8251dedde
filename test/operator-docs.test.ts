/**
 * The docs an operator reads: the README's set-up section (two alternative commands, the Debian package list that
 * scripts/test.mjs really installs, running from a clone — checked by running it), and the man page's sections.
 * (That the packages ship them is test/system/packages.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const man = readFileSync(join(ROOT, 'packaging/kube-cert-renewer.8'), 'utf8');

describe('README', () => {
  it('lists exactly the Debian packages scripts/test.mjs installs', () => {
    const script = readFileSync(join(ROOT, 'scripts/test.mjs'), 'utf8');
    const block = /const PACKAGES = \{([\s\S]*?)\n\};/.exec(script)?.[1] ?? '';
    const installed = [...block.matchAll(/^\s+'?([a-z0-9.+-]+)'?:/gm)].map((m) => m[1]);
    expect(installed.length).toBeGreaterThan(10);
    const listed = /exactly these packages \(the list in\n?\s*`scripts\/test\.mjs`\): ([^.]+)\./.exec(readme)?.[1]?.split(/,\s*/).map((p) => p.trim());
    expect(listed?.sort()).toEqual(installed.sort());
  });

  it('says the two set-up commands are alternatives, and how to run from a clone (which works)', () => {
    expect(readme).toMatch(/run either of\s+these two commands — they are alternatives/);
    expect(readme).toContain('`npx kube-cert-renewer status`');
    expect(readme).toContain('`node dist/kube-cert-renewer.cjs status`');
    const npx = spawnSync('npx', ['--no-install', 'kube-cert-renewer', '--version'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(npx.stdout.trim(), npx.stderr).toMatch(/^kube-cert-renewer \d+\.\d+\.\d+/);
  });

  it('has the CA expiry procedure, backups, kubeadm upgrade and the exporter labels', () => {
    for (const s of ['## When a CA nears expiry', 'renew --all', '**Backups.**', 'backups.keep: 10', '**Alongside `kubeadm upgrade`.**',
      '`filepath`, `filename`', '`serial_number`', '`x509_read_errors`', '-o wide']) expect(readme, s).toContain(s);
  });
});

describe('man page', () => {
  it('covers the schedule, disabling, backups, metrics, JSON, exit codes, kubeadm upgrade and CA expiry', () => {
    for (const s of ['.SS Changing the schedule', 'OnCalendar=', '.SS Disabling', 'systemctl disable \\-\\-now kube-cert-renewer.timer',
      '.SH BACKUPS', 'backups.keep', '0600', '.SH METRICS', 'x509_cert_not_after', 'x509_read_errors', 'kube_cert_renewer_runs_total',
      '.SH JSON OUTPUT', 'CertificateStatus', 'RenewalPlan', '.SH EXIT STATUS', '.SH KUBEADM UPGRADE', '.SH WHEN A CA NEARS EXPIRY']) {
      expect(man, s).toContain(s);
    }
  });
});
