/**
 * CA expiry told plainly (status unhealthy with the CA row flagged, run: one message per CA, plan's footer agreeing
 * with its CA-capped rows) and, after a renewal made with restarts off, which components still run the old
 * certificates.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readCert } from './helpers/openssl.js';
import { runCli, statusJson, writeConfig } from './helpers/cli.js';
import { CONFIG_HEADER, certOf, useFixtureCopies, useTrees } from './helpers/host-trees.js';

const trees = useTrees('kcr-ca-');
const DAY = 86_400_000;

describe('a CA that expires within renewBefore', () => {
  it('status: unhealthy, exit 1, the CA row flagged with its date; run: one error per CA, not one per leaf', async () => {
    // CAs issued 3600 days ago with 3650 days of validity: 50 days left, within the default renewBefore of 90 days
    const fx = await trees.make({ caIssuedDaysAgo: 3600, issuedDaysAgo: 40 });
    writeConfig(fx.root, `${CONFIG_HEADER}renewInterval: 30d\nrestart:\n  verify: false\n`);
    const caNotAfter = readCert(join(fx.root, 'etc/kubernetes/pki/ca.crt')).notAfter;
    expect(Math.floor((caNotAfter.getTime() - Date.now()) / DAY)).toBe(49);

    const { code, report } = statusJson(fx.root);
    expect(code).toBe(1);
    expect(report.summary.healthy).toBe(false);
    const ca = report.certificateAuthorities.find((c) => c.name === 'ca') as unknown as { expiring: boolean; notAfter: string };
    expect(ca.expiring).toBe(true);
    expect(Date.parse(ca.notAfter)).toBe(caNotAfter.getTime());
    const problem = report.problems.find((p) => p.entry === 'ca');
    expect(problem).toMatchObject({ code: 'ca-expiring', file: '/etc/kubernetes/pki/ca.crt' });
    expect(problem?.message).toContain(`expires on ${caNotAfter.toISOString().replace(/\.000Z$/, 'Z')} (in 49 days, within renewBefore 90d)`);

    const table = runCli(['--root', fx.root, 'status']);
    expect(table.code).toBe(1);
    const caLine = table.stdout.split('\n').find((l) => /^ca +\w{3} \d\d, \d{4}/.test(l));
    expect(caLine).toMatch(/ 49d +no +yes$/);
    expect(table.stdout.replace(/\n +/g, ' ')).toContain('When a CA nears expiry');

    const run = runCli(['--root', fx.root, 'run']);
    expect(run.code).toBe(1);
    const caErrors = run.stderr.split('\n').filter((l) => / ERROR +CA /.test(l));
    expect(caErrors.map((l) => /CA (\S+)/.exec(l)?.[1]).sort()).toEqual(['ca', 'etcd-ca', 'front-proxy-ca']);
    expect(caErrors.find((l) => l.includes('CA ca '))).toContain(`expires on ${caNotAfter.toISOString().replace(/\.000Z$/, 'Z')}`);
    expect(caErrors.join('\n')).toContain('When a CA nears expiry');
    // no per-leaf error lines for the leaves the CAs block
    expect(run.stderr).not.toMatch(/ERROR +apiserver: /);
    expect(run.stderr.split('\n').filter((l) => / ERROR /.test(l))).toHaveLength(4); // three CAs and the run's summary
    // nothing was renewed: every leaf is still the fixture's
    expect(certOf(fx.root, '/etc/kubernetes/pki/apiserver.crt').serial).toBe(readCert(fx.entry('apiserver').certPath).serial);
  });

  it('plan: the footer names the capped validity with the CA’s date, agreeing with the rows', async () => {
    // CAs with 200 days left; leaves issued 300 days ago expire in 65 days (< renewBefore 90d): due, capped at 200 days
    const fx = await trees.make({ caIssuedDaysAgo: 3450, issuedDaysAgo: 300 });
    const caEnd = readCert(join(fx.root, 'etc/kubernetes/pki/ca.crt')).notAfter.toISOString().slice(0, 10);
    const plan = runCli(['--root', fx.root, 'plan']);
    expect(plan.code, plan.stderr).toBe(0);
    const rows = plan.stdout.split('\n').filter((l) => l.includes(' → ') && !l.startsWith('RENEW '));
    expect(rows.length).toBeGreaterThan(5);
    for (const row of rows) expect(row, row).toMatch(new RegExp(`→ ${caEnd} \\(CA cap\\)`));
    expect(plan.stdout).not.toContain('valid for 365');
    expect(plan.stdout.replace(/\n +/g, ' ')).toContain(`New certificates: ${rows.length} until ${caEnd}, their CA's expiry (`);
    expect(statusJson(fx.root).report.summary.healthy).toBe(true); // 200 days left: not within renewBefore
  });
});

const copies = useFixtureCopies({ issuedDaysAgo: 40 });

describe('renewals made with restarts off', () => {
  it('status names the components still running the old certificates until a run restarts them', () => {
    const root = copies.copy('renewInterval: 30d\nrestart:\n  enabled: false\n');
    const run = runCli(['--root', root, 'run']);
    expect(run.code, run.stderr).toBe(0);
    const { report } = statusJson(root);
    const pending = (report as unknown as { pendingRestarts: Array<{ component: string; entries: string[] }> }).pendingRestarts;
    expect(pending.map((p) => p.component).sort()).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    expect(pending.find((p) => p.component === 'etcd')?.entries.sort()).toEqual(['etcd-peer', 'etcd-server']);
    expect((report as unknown as { restart: unknown }).restart).toEqual({ enabled: false, verify: true, verifyTimeout: '5m', annotation: 'kube-cert-renewer/restartedAt' });
    const table = runCli(['--root', root, 'status']).stdout.replace(/\n +/g, ' ');
    expect(table).toContain('Restarts: off (restart.enabled false)');
    expect(table).toContain('Still running the old certificates: kube-apiserver (renewed apiserver, apiserver-etcd-client');
    // the manifests were not touched: no restart happened
    expect(runCli(['--root', root, 'status', '-o', 'json']).stdout).not.toContain('"pendingRestarts": []');

    // restarts back on: renewing the API server's certificate restarts kube-apiserver, and only that is cleared
    writeConfig(root, `${CONFIG_HEADER}renewInterval: 30d\nrestart:\n  verify: false\n`);
    const renew = runCli(['--root', root, 'renew', 'apiserver']);
    expect(renew.code, renew.stderr).toBe(0);
    const after = (statusJson(root).report as unknown as { pendingRestarts: Array<{ component: string }> }).pendingRestarts;
    expect(after.map((p) => p.component).sort()).toEqual(['etcd', 'kube-controller-manager', 'kube-scheduler']);
    expect(runCli(['--root', root, 'status']).stdout).toContain('Restarts: on, not verified');
  });

  // Stand-ins for the component processes: argv[0] is what the product recognises a static pod's process by in /proc.
  const standins: Array<ReturnType<typeof spawn>> = [];
  afterEach(() => {
    for (const p of standins.splice(0)) p.kill('SIGKILL');
  });
  const standin = (binary: string): ReturnType<typeof spawn> => {
    const p = spawn('/usr/bin/python3', ['-c', 'import time; time.sleep(300)'], { argv0: binary, stdio: 'ignore' });
    standins.push(p);
    return p;
  };
  const pendingOf = (root: string): string[] =>
    (statusJson(root).report as unknown as { pendingRestarts: Array<{ component: string }> }).pendingRestarts.map((p) => p.component).sort();

  it('a component restarted some other way after the renewal (by hand, a reboot) is no longer named, and a run forgets it', async () => {
    const root = copies.copy('renewInterval: 30d\nrestart:\n  enabled: false\n');
    const before = standin('kube-controller-manager'); // started before the renewal: still runs the old certificates
    await new Promise((r) => setTimeout(r, 1_100)); // /proc start times count in 10 ms ticks, the state in ms
    const run = runCli(['--root', root, 'run']);
    expect(run.code, run.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 1_100));
    const after = standin('kube-scheduler'); // "restarted by hand" after the renewal
    await new Promise((r) => setTimeout(r, 300));
    expect(readFileSync(`/proc/${after.pid}/cmdline`, 'utf8').split('\0')[0]).toBe('kube-scheduler');
    expect(readFileSync(`/proc/${before.pid}/cmdline`, 'utf8').split('\0')[0]).toBe('kube-controller-manager');

    expect(pendingOf(root)).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager']);
    const table = runCli(['--root', root, 'status']).stdout.replace(/\n +/g, ' ');
    expect(table).toContain('Still running the old certificates: kube-controller-manager');
    expect(table).not.toContain('Still running the old certificates: kube-scheduler');
    const state = (): string[] => (JSON.parse(readFileSync(join(root, 'var/lib/kube-cert-renewer/state.json'), 'utf8')) as {
      pendingRestarts: Array<{ component: string }>;
    }).pendingRestarts.map((p) => p.component).sort();
    expect(state(), 'status writes nothing').toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);

    // the next run (nothing due) forgets it; a second stand-in of the other component, started before, changes nothing
    const next = runCli(['--root', root, 'run']);
    expect(next.code, next.stderr).toBe(0);
    expect(state()).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager']);

    // every process of the component must be new: an old one beside a new one still runs the old certificates
    standin('kube-controller-manager');
    await new Promise((r) => setTimeout(r, 300));
    expect(pendingOf(root)).toContain('kube-controller-manager');
  }, 60_000);
});

