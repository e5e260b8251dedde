/**
 * Operator views after runs: the Prometheus textfile (expiry per entry equal to openssl's, run timestamps and
 * counters, atomic replacement) and `status` remembering each entry's last renewal, including after `rollback`.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCert } from './helpers/openssl.js';
import { runCli, statusJson } from './helpers/cli.js';
import { certOf, stateOf, useFixtureCopies } from './helpers/host-trees.js';
import { one, parseProm } from './helpers/prom.js';

const trees = useFixtureCopies({ issuedDaysAgo: 40 });

describe('metrics textfile', () => {
  it('after runs: expiry per entry equals openssl, run timestamps, renewals and failures counted, replaced atomically', () => {
    const root = trees.copy('renewInterval: 30d\nrestart:\n  verify: false\nmetrics:\n  textfileDir: /var/lib/node_exporter/textfile\n');
    const dir = join(root, 'var/lib/node_exporter/textfile');
    const prom = join(dir, 'kube_cert_renewer.prom');

    const from = Date.now();
    const first = runCli(['--root', root, 'run']);
    const to = Date.now();
    expect(first.code, first.stderr).toBe(0);
    expect(readdirSync(dir), 'only the textfile, no temporary files').toEqual(['kube_cert_renewer.prom']);
    expect((statSync(prom).mode & 0o777).toString(8)).toBe('644');
    const { samples, types } = parseProm(readFileSync(prom, 'utf8'));

    // one x509_cert_not_after per present entry and CA, equal to openssl's notAfter of the file it names
    const notAfter = samples.filter((s) => s.name === 'x509_cert_not_after');
    const expectedNames = trees.base.entries.map((e) => e.name).sort();
    expect(notAfter.map((s) => s.labels.name).sort()).toEqual(expectedNames);
    for (const s of notAfter) {
      expect(s.labels.filepath, `${s.labels.name} filepath is a host path`).toMatch(/^\/etc\/kubernetes\//);
      expect(s.labels.issuer_CN, `${s.labels.name} issuer`).toBeTruthy();
      const info = certOf(root, s.labels.filepath as string);
      expect(s.value, `${s.labels.name} notAfter`).toBe(info.notAfter.getTime() / 1000);
      expect(one(samples, 'x509_cert_not_before', { name: s.labels.name as string }), `${s.labels.name} notBefore`).toBe(info.notBefore.getTime() / 1000);
      expect(one(samples, 'x509_cert_expired', { name: s.labels.name as string })).toBe(0);
    }
    // the renewed ones really are the new files (a year from now), the kubelet-rotated one is not
    expect(notAfter.find((s) => s.labels.name === 'apiserver')?.value).toBeGreaterThan(from / 1000 + 364 * 86_400);

    const lastRun = one(samples, 'kube_cert_renewer_last_run_timestamp_seconds') as number;
    expect(lastRun).toBeGreaterThanOrEqual(Math.floor(from / 1000));
    expect(lastRun).toBeLessThanOrEqual(Math.ceil(to / 1000));
    expect(one(samples, 'kube_cert_renewer_last_success_timestamp_seconds')).toBe(lastRun);
    expect(one(samples, 'kube_cert_renewer_last_run_success')).toBe(1);
    const renewed = ['admin.conf', 'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'controller-manager.conf',
      'etcd-healthcheck-client', 'etcd-peer', 'etcd-server', 'front-proxy-client', 'scheduler.conf', 'super-admin.conf'];
    for (const name of renewed) expect(one(samples, 'kube_cert_renewer_renewals_total', { name }), name).toBe(1);
    expect(one(samples, 'kube_cert_renewer_renewals_total', { name: 'kubelet.conf' })).toBeUndefined();
    expect(one(samples, 'kube_cert_renewer_failures_total')).toBe(0);
    expect(one(samples, 'kube_cert_renewer_runs_total')).toBe(1);
    expect(types.get('kube_cert_renewer_renewals_total')).toBe('counter');
    expect(types.get('x509_cert_not_after')).toBe('gauge');

    // renew one entry again: its counter moves, the others stay
    const inode = statSync(prom).ino;
    const second = runCli(['--root', root, 'renew', 'etcd-server']);
    expect(second.code, second.stderr).toBe(0);
    const after2 = parseProm(readFileSync(prom, 'utf8')).samples;
    expect(one(after2, 'kube_cert_renewer_renewals_total', { name: 'etcd-server' })).toBe(2);
    expect(one(after2, 'kube_cert_renewer_renewals_total', { name: 'etcd-peer' })).toBe(1);
    expect(one(after2, 'x509_cert_not_after', { name: 'etcd-server' })).toBe(readCert(join(root, 'etc/kubernetes/pki/etcd/server.crt')).notAfter.getTime() / 1000);
    expect(statSync(prom).ino, 'the file was replaced by a rename, not rewritten in place').not.toBe(inode);

    // a failing run: a key that does not belong to its certificate
    copyFileSync(join(root, 'etc/kubernetes/pki/front-proxy-client.key'), join(root, 'etc/kubernetes/pki/apiserver.key'));
    const failing = runCli(['--root', root, 'run']);
    expect(failing.code, failing.stderr).toBe(1);
    const after3 = parseProm(readFileSync(prom, 'utf8')).samples;
    expect(one(after3, 'kube_cert_renewer_failures_total')).toBe(1);
    expect(one(after3, 'kube_cert_renewer_runs_total')).toBe(3);
    expect(one(after3, 'kube_cert_renewer_last_run_success')).toBe(0);
    expect(one(after3, 'kube_cert_renewer_last_success_timestamp_seconds')).toBeLessThanOrEqual(one(after3, 'kube_cert_renewer_last_run_timestamp_seconds') as number);
    expect(one(after3, 'kube_cert_renewer_entry_problems', { name: 'apiserver' })).toBeGreaterThanOrEqual(1);
    expect(one(after3, 'kube_cert_renewer_entry_problems', { name: 'etcd-server' })).toBe(0);
    expect(readdirSync(dir)).toEqual(['kube_cert_renewer.prom']);
  });
});

describe('after `rollback`', () => {
  it('the metrics textfile and status describe the restored certificates', () => {
    const root = trees.copy('restart:\n  verify: false\nmetrics:\n  textfileDir: /var/lib/node_exporter\n');
    const prom = join(root, 'var/lib/node_exporter/kube_cert_renewer.prom');
    const serverCrt = join(root, 'etc/kubernetes/pki/etcd/server.crt');
    const original = readCert(serverCrt);

    const a = runCli(['--root', root, 'renew', 'etcd-server']);
    expect(a.code, a.stderr).toBe(0);
    const afterA = readCert(serverCrt);
    const runA = stateOf(root).entries['etcd-server'].runId as string;
    execFileSync('sleep', ['1.1']); // B's certificate must not expire in the same second as A's
    const b = runCli(['--root', root, 'renew', 'etcd-server']);
    expect(b.code, b.stderr).toBe(0);
    expect(one(parseProm(readFileSync(prom, 'utf8')).samples, 'x509_cert_not_after', { name: 'etcd-server' })).toBe(readCert(serverCrt).notAfter.getTime() / 1000);

    // roll back B: A's certificate is back, and so is A's renewal in status; the textfile follows
    const rb = runCli(['--root', root, 'rollback']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(readCert(serverCrt).serial).toBe(afterA.serial);
    expect(one(parseProm(readFileSync(prom, 'utf8')).samples, 'x509_cert_not_after', { name: 'etcd-server' })).toBe(afterA.notAfter.getTime() / 1000);
    const last = statusJson(root).report.certificates.find((c) => c.name === 'etcd-server')?.lastRenewal as unknown as Record<string, string>;
    expect(last, 'status still knows the renewal the restored certificate came from').toMatchObject({ runId: runA, newSerial: afterA.serial, oldSerial: original.serial });

    // roll back A: the original certificate, which no run of ours issued (`rollback` alone undoes only the most
    // recent run, so an earlier one is named)
    const rb2 = runCli(['--root', root, 'rollback', runA]);
    expect(rb2.code, rb2.stderr).toBe(0);
    expect(readCert(serverCrt).serial).toBe(original.serial);
    expect(one(parseProm(readFileSync(prom, 'utf8')).samples, 'x509_cert_not_after', { name: 'etcd-server' })).toBe(original.notAfter.getTime() / 1000);
    expect(statusJson(root).report.certificates.find((c) => c.name === 'etcd-server')?.lastRenewal).toBeUndefined();
    expect(readdirSync(join(root, 'var/lib/node_exporter'))).toEqual(['kube_cert_renewer.prom']);
  });
});

describe('status after a run', () => {
  it('shows each renewed entry’s last renewal in JSON and in the LAST RENEWED column', () => {
    const root = trees.copy('restart:\n  verify: false\n');
    const from = Date.now();
    const r = runCli(['--root', root, 'renew', 'etcd-server', 'admin.conf']);
    expect(r.code, r.stderr).toBe(0);
    const to = Date.now();
    const runId = readdirSync(join(root, 'var/lib/kube-cert-renewer/backups'))[0];
    const { report } = statusJson(root);
    for (const c of report.certificates) {
      const renewed = c.name === 'etcd-server' || c.name === 'admin.conf';
      if (!renewed) {
        expect(c.lastRenewal, c.name).toBeUndefined();
        continue;
      }
      const last = c.lastRenewal as unknown as { renewedAt: string; newSerial: string; oldSerial: string; runId: string };
      expect(Date.parse(last.renewedAt)).toBeGreaterThanOrEqual(from - 1000);
      expect(Date.parse(last.renewedAt)).toBeLessThanOrEqual(to);
      expect(last.runId).toBe(runId);
      expect(last.newSerial).toBe(certOf(root, c.name === 'admin.conf' ? '/etc/kubernetes/admin.conf' : '/etc/kubernetes/pki/etcd/server.crt').serial);
      expect(last.newSerial).toBe(c.serial);
      expect(last.oldSerial).toBe(certOf(trees.base.root, c.name === 'admin.conf' ? '/etc/kubernetes/admin.conf' : '/etc/kubernetes/pki/etcd/server.crt').serial);
    }

    const table = runCli(['--root', root, 'status', '-o', 'wide']);
    const lines = table.stdout.split('\n');
    const header = lines.find((l) => l.startsWith('CERTIFICATE ') && l.includes('LAST RENEWED')) as string;
    expect(header, table.stdout).toBeDefined();
    const col = header.indexOf('LAST RENEWED');
    const cell = (name: string): string | undefined => lines.find((l) => l.startsWith(`${name} `))?.slice(col).trim();
    const today = new Date(Date.parse(report.certificates.find((c) => c.name === 'etcd-server')?.lastRenewal?.renewedAt as string)).toISOString().slice(0, 10);
    expect(cell('etcd-server')).toBe(today);
    expect(cell('admin.conf')).toBe(today);
    expect(cell('apiserver')).toBe('-');
    expect(cell('etcd-peer')).toBe('-');
  });
});
