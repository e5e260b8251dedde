/**
 * What an operator meets first, through the built CLI: usage errors (exit 2, nothing written, the closest valid
 * word suggested), a --root with no control plane, configuration checks, host paths in every output, and tables that
 * fit a terminal in kubeadm check-expiration's columns and words.
 */
import { mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCert } from './helpers/openssl.js';
import { runCli, snapshotFiles, statusJson, writeConfig } from './helpers/cli.js';
import { CONFIG_HEADER, useFixtureCopies } from './helpers/host-trees.js';

const trees = useFixtureCopies({ issuedDaysAgo: 40 });
const empties: string[] = [];
afterAll(() => {
  for (const d of empties) rmSync(d, { recursive: true, force: true });
});
const longest = (text: string): number => Math.max(...text.split('\n').map((l) => [...l].length));

describe('usage errors', () => {
  it('a command given arguments it does not take: exit 2, usage on stderr, nothing written', () => {
    const root = trees.copy('renewInterval: 30d\nrestart:\n  verify: false\n');
    const before = snapshotFiles(root);
    for (const args of [['status', 'extra'], ['plan', 'apiserver'], ['run', 'apiserver'], ['demo', 'now']]) {
      const r = runCli(['--root', root, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`${args[0]} takes no arguments (got "${args[1]}")`);
      expect(r.stderr).toContain(`usage: kube-cert-renewer [global options] ${args[0]}`);
    }
    expect(snapshotFiles(root)).toEqual(before);
    expect(readdirSync(root).sort()).toEqual(['etc', 'var']);
    expect(readdirSync(join(root, 'var/lib')).sort()).toEqual(['kubelet']);
  });

  it('an unknown command, option or output format suggests the closest valid one', () => {
    const root = trees.copy('');
    const cmd = runCli(['--root', root, 'stauts']);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain('unknown command "stauts"; did you mean "status"?');
    expect(runCli(['rollbak']).stderr).toContain('did you mean "rollback"?');
    expect(runCli(['frobnicate']).stderr).not.toContain('did you mean');
    const opt = runCli(['--root', root, 'status', '--ouptut', 'json']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toContain('unknown option --ouptut; did you mean --output?');
    expect(runCli(['--root', root, 'renew', '--al']).stderr).toContain('did you mean --all?');
    const fmt = runCli(['--root', root, 'status', '-o', 'wdie']);
    expect(fmt.code).toBe(2);
    expect(fmt.stderr).toContain('--output "wdie": use table, wide or json (did you mean wide?)');
  });
});

describe('--root with no kubeadm control plane', () => {
  it('status, plan and run: one message, exit 1, nothing written', () => {
    const root = mkdtempSync(join(tmpdir(), 'kcr-empty-'));
    empties.push(root);
    for (const cmd of ['status', 'plan', 'run']) {
      const r = runCli(['--root', root, cmd]);
      expect(r.code, cmd).toBe(1);
      expect(r.stdout, cmd).toBe('');
      expect(r.stderr, cmd).toContain(`no kubeadm control plane under ${root}`);
      expect(r.stderr, cmd).not.toMatch(/MISSING/);
      expect(r.stderr.trim().split('\n'), cmd).toHaveLength(2); // the message and what to check
    }
    expect(readdirSync(root)).toEqual([]);
  });
});

describe('configuration', () => {
  it('an empty or comments-only config means the defaults', () => {
    const root = trees.copy('');
    const defaults = statusJson(root).report as unknown as { policy: unknown };
    for (const text of ['', '# every key commented out\n#renewBefore: 30d\n\n   # indented comment\n', '---\n']) {
      writeConfig(root, text);
      const { code, report, stderr } = statusJson(root);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect((report as unknown as { policy: unknown }).policy).toEqual({ mode: 'renew', renewInterval: '0', renewBefore: '90d', validity: '365d' });
      expect((report as unknown as { policy: unknown }).policy).toEqual(defaults.policy);
    }
  });

  it('refuses a policy that never renews before expiry, or renews on every run: exit 2 naming the keys, nothing written', () => {
    const root = trees.copy('');
    const before = snapshotFiles(root);
    const never = writeConfig(root, `${CONFIG_HEADER}renewInterval: 0\nrenewBefore: 0\n`);
    for (const cmd of ['status', 'plan', 'run']) {
      const r = runCli(['--root', root, cmd]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`${never}: renewInterval, renewBefore: both are 0`);
    }
    writeConfig(root, `${CONFIG_HEADER}validity: 60d\n`);
    const always = runCli(['--root', root, 'run']);
    expect(always.code).toBe(2);
    expect(always.stderr).toMatch(/renewBefore: must be shorter than validity \(renewBefore 90d ≥ validity 60d\): every run would renew/);
    writeConfig(root, `${CONFIG_HEADER}validity: 90d\nrenewBefore: 90d\n`);
    expect(runCli(['--root', root, 'plan']).code).toBe(2);
    writeConfig(root, CONFIG_HEADER);
    expect(snapshotFiles(root)).toEqual(before);
  });

  it('an interval under a day is accepted with a warning that the control plane restarts that often', () => {
    const root = trees.copy('renewInterval: 12h\n');
    const r = runCli(['--root', root, 'plan']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/WARN .*renewInterval 12h is under a day: every run renews the certificates and restarts the control-plane components/);
    expect(runCli(['--root', trees.copy('renewInterval: 1d\n'), 'plan']).stderr).toBe('');
  });
});

describe('host paths in every output', () => {
  it('status JSON, plan JSON and run logs name files as the node sees them, never under --root', () => {
    const root = trees.copy('renewInterval: 30d\nrestart:\n  verify: false\n');
    unlinkSync(join(root, 'etc/kubernetes/pki/front-proxy-client.key'));
    const { report } = statusJson(root);
    const status = JSON.stringify({ ...report, host: undefined }); // host.root is --root itself
    expect(status).not.toContain(root);
    for (const c of report.certificates) {
      expect(c.path, c.name).toMatch(/^\/(etc\/kubernetes|var\/lib\/kubelet)\//);
      if (!c.name.endsWith('.conf') && c.state === 'present') expect(readCert(join(root, c.path)).serial, c.name).toBe(c.serial);
    }
    const problem = report.problems.find((p) => p.entry === 'front-proxy-client');
    expect(problem?.file).toBe('/etc/kubernetes/pki/front-proxy-client.key');
    const plan = runCli(['--root', root, 'plan', '-o', 'json']);
    expect(plan.stdout).not.toContain(root);
    expect(JSON.parse(plan.stdout).renew.find((i: { name: string }) => i.name === 'apiserver').files).toEqual(['/etc/kubernetes/pki/apiserver.key', '/etc/kubernetes/pki/apiserver.crt']);
    const run = runCli(['--root', root, 'run']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('front-proxy-client: /etc/kubernetes/pki/front-proxy-client.key:');
    expect(run.stderr).toContain('manifest=/etc/kubernetes/manifests/kube-apiserver.yaml');
    expect(run.stderr).not.toContain(root);
  });
});

describe('tables that fit', () => {
  it('status and plan fit 120 columns in kubeadm check-expiration’s columns and words; -o wide adds columns', () => {
    const root = trees.copy('renewInterval: 30d\n');
    unlinkSync(join(root, 'etc/kubernetes/pki/apiserver-kubelet-client.crt'));
    unlinkSync(join(root, 'etc/kubernetes/pki/apiserver-kubelet-client.key'));
    const status = runCli(['--root', root, 'status']);
    expect(status.code).toBe(1);
    expect(longest(status.stdout)).toBeLessThanOrEqual(120);
    const lines = status.stdout.split('\n');
    expect(lines[0]).toMatch(/^CERTIFICATE +EXPIRES +RESIDUAL TIME +CERTIFICATE AUTHORITY +EXTERNALLY MANAGED +DUE$/);
    expect(lines.find((l) => l.startsWith('apiserver-kubelet-client '))).toMatch(/^apiserver-kubelet-client +!MISSING! /);
    const apiserver = readCert(join(root, 'etc/kubernetes/pki/apiserver.crt'));
    const d = apiserver.notAfter;
    const month = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
    const kubeadmDate = `${month} ${String(d.getUTCDate()).padStart(2, '0')}, ${d.getUTCFullYear()} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} UTC`;
    const days = Math.floor((d.getTime() - Date.now()) / 86_400_000);
    expect(lines.find((l) => l.startsWith('apiserver '))).toMatch(new RegExp(`^apiserver +${kubeadmDate} +(${days}|${days - 1})d +ca +no +yes$`));
    const caHeader = lines.findIndex((l) => l.startsWith('CERTIFICATE AUTHORITY '));
    expect(lines.slice(caHeader + 1, caHeader + 4).map((l) => l.split(' ')[0])).toEqual(['ca', 'etcd-ca', 'front-proxy-ca']);
    expect(status.stdout).toMatch(/^Due \(\d+\):$/m);
    expect(status.stdout).toMatch(/^ {2}apiserver: issued 40d ago ≥ renewInterval 30d$/m);

    const wide = runCli(['--root', root, 'status', '-o', 'wide']);
    expect(wide.stdout.split('\n')[0]).toMatch(/DUE +ISSUED +WHY +RESTARTS +LAST RENEWED$/);
    expect(longest(wide.stdout)).toBeGreaterThan(120);

    const plan = runCli(['--root', root, 'plan']);
    expect(longest(plan.stdout)).toBeLessThanOrEqual(120);
    expect(plan.stdout.split('\n')[0]).toMatch(/^RENEW +WHY +NOT AFTER \(OLD → NEW\) +RESTARTS$/);
    expect(plan.stdout).not.toContain('/etc/kubernetes');
    const planWide = runCli(['--root', root, 'plan', '-o', 'wide']);
    expect(planWide.stdout.split('\n')[0]).toMatch(/RESTARTS +FILES$/);
    expect(planWide.stdout).toContain('/etc/kubernetes/pki/apiserver.key /etc/kubernetes/pki/apiserver.crt');
  });

  it('an expired certificate reads <invalid> in RESIDUAL TIME, as kubeadm prints it', async () => {
    const root = trees.copy('');
    const r = runCli(['--root', root, 'status']);
    expect(r.stdout).not.toContain('<invalid>');
    const { createKubeadmTree } = await import('./helpers/kubeadm-fixture.js');
    const dir = mkdtempSync(join(tmpdir(), 'kcr-expired-'));
    empties.push(dir);
    const fx = await createKubeadmTree(dir, { expired: true, reuseKeys: true });
    const expired = runCli(['--root', fx.root, 'status']);
    expect(expired.code).toBe(1);
    expect(expired.stdout.split('\n').find((l) => l.startsWith('apiserver '))).toMatch(/ {3}<invalid> {3}/);
    expect(longest(expired.stdout)).toBeLessThanOrEqual(120);
  });
});
