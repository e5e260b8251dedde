// End to end on a real systemd: a booted Debian 12 container without Node.js, the .deb installed as an operator
// would, a kubeadm PKI with every leaf due, a real etcd and stand-ins for the other components (standins.ts).
// Each step checks what an operator would look at, with tools independent of the product (openssl, etcdctl,
// systemctl, journalctl, dpkg); the steps run in order and share the container.
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, createKubeadmTree, extractKubeconfigCredentials, writeTempPem } from '../helpers/kubeadm-fixture.js';
import { expectSameIdentity, expectSignedBy, readCert } from '../helpers/openssl.js';
import { assertMatchesSchema } from '../helpers/schemas.js';
import { Systemd, readTimer } from '../../src/ops/systemd.js';
import { Container } from './container.js';
import { builtPackage } from './packages.js';
import { freshRootfs } from './rootfs.js';
import { STAND_IN_UNITS, installStandIns } from './standins.js';

const DAY = 86_400_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every leaf the fixture holds (a control-plane node that ran kubeadm init, stacked etcd, embedded kubelet.conf). */
const LEAVES = [
  'admin.conf', 'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'controller-manager.conf',
  'etcd-healthcheck-client', 'etcd-peer', 'etcd-server', 'front-proxy-client', 'kubelet.conf', 'scheduler.conf',
  'super-admin.conf',
];

// Leaves issued 40 days ago with renewInterval 30d: all due. The CAs were issued 3305 days ago, so they expire in
// 345 days, before a renewed certificate's 365: every renewal is capped at its CA's expiry, which the agent must
// log as a warning (the one `journalctl -p warning` has to show).
const CONFIG = `apiVersion: kube-cert-renewer.io/v1alpha1
kind: RenewerConfiguration
renewInterval: 30d
restart:
  mode: always
  verifyTimeout: 60s
`;

/** What the tests read of `kube-cert-renewer status -o json`. */
interface StatusView {
  timer?: { unit: string; activeState?: string; lastTriggerAt?: string; nextElapseAt?: string };
  certificates: Array<{ name: string; due: boolean; renewable: boolean }>;
}

describe.sequential('kube-cert-renewer on a booted Debian 12 with systemd (systemd-nspawn)', () => {
  let rootfs: ReturnType<typeof freshRootfs> | undefined;
  let c: Container;
  let fx: Fixture;
  let serialsBefore: Record<string, string>;

  const sh = (script: string, timeoutMs?: number) => c.run(['sh', '-c', script], timeoutMs ? { timeoutMs } : {});
  const show = async (unit: string, prop: string): Promise<string> => (await c.run(['systemctl', 'show', '-P', prop, unit])).trim();
  const mainPid = async (unit: string): Promise<number> => Number(await show(unit, 'MainPID'));
  /** The certificate a TLS endpoint inside the container serves, as PEM (openssl s_client in the container). */
  const served = async (port: number, client?: { cert: string; key: string }): Promise<string> => {
    const auth = client ? `-cert ${client.cert} -key ${client.key}` : '';
    return sh(`openssl s_client -connect 127.0.0.1:${port} ${auth} </dev/null 2>/dev/null | openssl x509`);
  };
  const serialOnDisk = (inside: string): string => readCert(c.path(inside)).serial;
  // status exits 1 when something is expired or broken; the JSON is printed either way
  const statusJson = async (): Promise<StatusView> => {
    const report = JSON.parse((await c.exec(['kube-cert-renewer', 'status', '-o', 'json'])).stdout) as StatusView;
    assertMatchesSchema('status', report); // the packaged executable keeps the contract too
    return report;
  };
  const serials = (): Record<string, string> => Object.fromEntries(fx.entries.filter((e) => e.kind !== 'ca').map((e) => {
    if (e.kind === 'kubeconfig') {
      const creds = extractKubeconfigCredentials(e.kubeconfigPath as string, fx.root);
      return [e.name, readCert(creds.certPem).serial];
    }
    return [e.name, readCert(e.certPath).serial];
  }));

  beforeAll(async () => {
    rootfs = freshRootfs();
    fx = await createKubeadmTree(rootfs.dir, {
      issuedDaysAgo: 40, caIssuedDaysAgo: 3305, kubeletConf: 'embedded', advertiseAddress: '127.0.0.1', hostname: 'cp-1',
    });
    installStandIns(rootfs.dir);
    c = await Container.boot(rootfs.dir, join(rootfs.dir, '..', 'console.log'));
    for (const unit of STAND_IN_UNITS) expect(`${unit} ${await show(unit, 'ActiveState')}`).toBe(`${unit} active`);
    // etcd answers (with the fixture's certificates) before anything else happens
    await waitFor(async () => (await etcdHealth()).code === 0, 30_000, 'etcd to answer');
  }, 20 * 60_000);

  afterAll(async () => {
    await c?.destroy();
    rootfs?.remove();
  }, 60_000);

  const etcdHealth = (cert = '/etc/kubernetes/pki/etcd/healthcheck-client.crt', key = '/etc/kubernetes/pki/etcd/healthcheck-client.key') =>
    c.exec(['etcdctl', '--endpoints=https://127.0.0.1:2379', '--cacert=/etc/kubernetes/pki/etcd/ca.crt', `--cert=${cert}`, `--key=${key}`,
      '--command-timeout=3s', 'endpoint', 'health'], { env: { ETCDCTL_API: '3' } });

  it('has no Node.js: the packaged executable must run on its own', async () => {
    expect((await c.exec(['sh', '-c', 'command -v node nodejs'])).code).not.toBe(0);
  });

  it('dpkg -i installs the executable, units, config and man page, and enables and starts the timer', async () => {
    copyFileSync(builtPackage('deb'), c.path('/root/kube-cert-renewer.deb'));
    await c.run(['dpkg', '-i', '/root/kube-cert-renewer.deb']);
    expect((await c.run(['kube-cert-renewer', '--version'])).trim()).toMatch(/^kube-cert-renewer \d+\.\d+\.\d+/);
    for (const f of ['/usr/bin/kube-cert-renewer', '/lib/systemd/system/kube-cert-renewer.service', '/lib/systemd/system/kube-cert-renewer.timer',
      '/etc/kube-cert-renewer/config.yaml', '/usr/share/man/man8/kube-cert-renewer.8.gz', '/usr/share/doc/kube-cert-renewer/copyright']) {
      expect(existsSync(c.path(f)), f).toBe(true);
    }
    expect((await c.exec(['systemctl', 'is-enabled', 'kube-cert-renewer.timer'])).stdout.trim()).toBe('enabled');
    expect(await show('kube-cert-renewer.timer', 'ActiveState')).toBe('active');
    expect(await c.run(['systemctl', 'list-timers', '--no-pager'])).toMatch(/kube-cert-renewer\.timer\s+kube-cert-renewer\.service/);
    // Installing must not start a renewal run: that is the timer's or the operator's decision.
    expect(await show('kube-cert-renewer.service', 'ExecMainStartTimestampMonotonic')).toBe('0');
  });

  it('with the operator\'s config every leaf is due and renewable', async () => {
    writeFileSync(c.path('/etc/kube-cert-renewer/config.yaml'), CONFIG);
    const status = await statusJson();
    expect(status.certificates.filter((x) => x.renewable).map((x) => x.name).sort()).toEqual(LEAVES);
    serialsBefore = serials();
  });

  it('systemctl start kube-cert-renewer.service renews, restarts and verifies under the hardened unit', async () => {
    const etcdPid = await mainPid('static-pod@etcd.service');
    const apiserverPid = await mainPid('static-pod@kube-apiserver.service');
    const kubeletPid = await mainPid('kubelet.service');
    const servedBefore = await served(2379, { cert: '/etc/kubernetes/pki/etcd/healthcheck-client.crt', key: '/etc/kubernetes/pki/etcd/healthcheck-client.key' });

    const start = await c.exec(['systemctl', 'start', 'kube-cert-renewer.service'], { timeoutMs: 300_000 });
    const journal = await c.run(['journalctl', '-u', 'kube-cert-renewer', '-o', 'cat', '--no-pager']);
    expect(start.code, `${start.stderr}\n${journal}`).toBe(0);
    expect(await show('kube-cert-renewer.service', 'Result')).toBe('success');

    // every leaf is new, chains to its CA, keeps its identity, and ends with its CA (the cap)
    const after = serials();
    for (const name of LEAVES) expect(after[name], name).not.toBe(serialsBefore[name]);
    for (const e of fx.entries.filter((x) => x.kind !== 'ca')) {
      const ca = fx.entry(e.caName as string).certPath;
      const pem = e.kind === 'kubeconfig' ? writeTempPem(extractKubeconfigCredentials(e.kubeconfigPath as string, fx.root).certPem) : e.certPath;
      expectSignedBy(ca, pem);
      expect(readCert(pem).notAfter.getTime(), e.name).toBe(readCert(ca).notAfter.getTime());
    }
    expectSameIdentity(writeTempPem(servedBefore), c.path('/etc/kubernetes/pki/etcd/server.crt'));

    // etcd was bounced by its manifest and serves the new certificate to a client with the new client certificate
    expect(await mainPid('static-pod@etcd.service')).not.toBe(etcdPid);
    const client = { cert: '/etc/kubernetes/pki/apiserver-etcd-client.crt', key: '/etc/kubernetes/pki/apiserver-etcd-client.key' };
    expect(readCert(await served(2379, client)).serial).toBe(serialOnDisk('/etc/kubernetes/pki/etcd/server.crt'));
    expect(readCert(await served(2380, client)).serial).toBe(serialOnDisk('/etc/kubernetes/pki/etcd/peer.crt'));
    const health = await etcdHealth();
    expect(health.code, health.stderr).toBe(0);
    // the other static pods too, each serving what is on disk now
    expect(await mainPid('static-pod@kube-apiserver.service')).not.toBe(apiserverPid);
    expect(readCert(await served(6443)).serial).toBe(serialOnDisk('/etc/kubernetes/pki/apiserver.crt'));
    // the kubelet (embedded kubelet.conf renewed) was restarted over D-Bus
    expect(await mainPid('kubelet.service')).not.toBe(kubeletPid);
    expect(await show('kubelet.service', 'ActiveState')).toBe('active');
  });

  it('journalctl -u kube-cert-renewer reads as text, and -p warning keeps only the warnings', async () => {
    const all = await c.run(['journalctl', '-u', 'kube-cert-renewer', '-o', 'cat', '--no-pager']);
    const agentLines = (await c.run(['journalctl', '-u', 'kube-cert-renewer', 'SYSLOG_IDENTIFIER=kube-cert-renewer', '-o', 'cat', '--no-pager']))
      .split('\n').filter(Boolean);
    expect(all).toMatch(/^renewed etcd-server /m);
    expect(all).toMatch(/^run succeeded: renewed 12, restarted 5, failed 0/m);
    expect(agentLines.length).toBeGreaterThan(20);
    for (const line of agentLines) {
      expect(line, 'a raw JSON line in the journal').not.toMatch(/^\s*\{|"level":|^<\d>/);
    }
    const warnings = await c.run(['journalctl', '-u', 'kube-cert-renewer', '-p', 'warning', '-o', 'cat', '--no-pager']);
    expect(warnings).toMatch(/^etcd-server: validity capped at its CA's expiry; plan a CA rotation/m);
    expect(warnings).not.toMatch(/^renewed |^run succeeded|serves the new certificates/m);
    // the priorities journald recorded come from the agent's <N> prefixes: 4 warning, 6 info
    const records = (await c.run(['journalctl', '-u', 'kube-cert-renewer', 'SYSLOG_IDENTIFIER=kube-cert-renewer', '-o', 'json', '--no-pager']))
      .split('\n').filter(Boolean).map((l) => JSON.parse(l) as { MESSAGE: string; PRIORITY: string });
    expect(records.find((r) => r.MESSAGE.startsWith('renewed etcd-server'))?.PRIORITY).toBe('6');
    expect(records.find((r) => r.MESSAGE.startsWith('etcd-server: validity capped'))?.PRIORITY).toBe('4');
  });

  it('systemctl status shows the sd_notify status text of the finished run', async () => {
    const status = await c.exec(['systemctl', 'status', 'kube-cert-renewer.service', '--no-pager']);
    expect(status.stdout).toMatch(/Status: "run succeeded: renewed 12, restarted 5, failed 0"/);
  });

  it('status -o json in the container shows the timer read over D-Bus, and nothing due', async () => {
    const status = await statusJson();
    expect(status.certificates.filter((x) => x.due).map((x) => x.name)).toEqual([]);
    expect(status.timer?.unit).toBe('kube-cert-renewer.timer');
    expect(status.timer?.activeState).toBe('active');
    const next = Date.parse(status.timer?.nextElapseAt ?? '');
    expect(next).toBeGreaterThan(Date.now());
    expect(next).toBeLessThan(Date.now() + 2 * DAY);
  });

  it('the timer catches up on a missed run (Persistent=true) and its last run shows in status', async () => {
    const startedBefore = await show('kube-cert-renewer.service', 'ExecMainStartTimestampMonotonic');
    // As if the node had been down for two days since the timer last fired. systemd delays a catch-up by
    // RandomizedDelaySec too (after boot, up to an hour): a runtime drop-in turns that off for this check.
    await sh(`mkdir -p /run/systemd/system/kube-cert-renewer.timer.d
printf '[Timer]\\nRandomizedDelaySec=0\\n' > /run/systemd/system/kube-cert-renewer.timer.d/now.conf
systemctl daemon-reload
systemctl stop kube-cert-renewer.timer
touch -d '2 days ago' /var/lib/systemd/timers/stamp-kube-cert-renewer.timer
systemctl start kube-cert-renewer.timer`);
    try {
      await waitFor(async () => (await show('kube-cert-renewer.service', 'ExecMainStartTimestampMonotonic')) !== startedBefore
        && ['inactive', 'failed'].includes(await show('kube-cert-renewer.service', 'ActiveState')), 120_000, 'the timer to run the service');
    } finally {
      await sh('rm -r /run/systemd/system/kube-cert-renewer.timer.d && systemctl daemon-reload && systemctl restart kube-cert-renewer.timer');
    }
    expect(await show('kube-cert-renewer.service', 'Result')).toBe('success');
    const journal = await c.run(['journalctl', '-u', 'kube-cert-renewer', '-o', 'cat', '--no-pager']);
    expect(journal).toMatch(/^nothing to renew/m);
    const status = await statusJson();
    const last = Date.parse(status.timer?.lastTriggerAt ?? '');
    expect(Date.now() - last).toBeLessThan(10 * 60_000);
    expect(Date.parse(status.timer?.nextElapseAt ?? '')).toBeGreaterThan(Date.now());
  });

  it('the agent\'s D-Bus client, from the host, reads the timer and restarts a unit in the container\'s systemd', async () => {
    const root = `/proc/${c.pid}/root`;
    const timer = await readTimer(root);
    const inside = (await statusJson()).timer;
    expect(timer).toEqual(inside);
    const systemd = await Systemd.connect(`unix:path=${root}/run/dbus/system_bus_socket`);
    try {
      const before = await systemd.unitState('kubelet.service');
      expect(before.activeState).toBe('active');
      expect(before.mainPid).toBe(await mainPid('kubelet.service'));
      const job = await systemd.restartUnit('kubelet.service');
      expect(job).toMatch(/^\/org\/freedesktop\/systemd1\/job\/\d+$/);
      await waitFor(async () => {
        const now = await systemd.unitState('kubelet.service');
        return now.activeState === 'active' && now.mainPid !== before.mainPid && now.mainPid > 0;
      }, 30_000, 'kubelet.service to come back with a new process');
      expect(await mainPid('kubelet.service')).not.toBe(before.mainPid);
    } finally {
      systemd.close();
    }
  });

  it('dpkg -r stops the timer and removes the program and units, keeping config and state', async () => {
    await c.run(['dpkg', '-r', 'kube-cert-renewer']);
    for (const f of ['/usr/bin/kube-cert-renewer', '/lib/systemd/system/kube-cert-renewer.service', '/lib/systemd/system/kube-cert-renewer.timer']) {
      expect(existsSync(c.path(f)), f).toBe(false);
    }
    expect((await c.exec(['systemctl', 'is-active', 'kube-cert-renewer.timer'])).stdout.trim()).toBe('inactive');
    expect(await c.run(['systemctl', 'list-timers', '--no-pager'])).not.toMatch(/kube-cert-renewer/);
    expect(readFileSync(c.path('/etc/kube-cert-renewer/config.yaml'), 'utf8')).toBe(CONFIG);
    expect(existsSync(c.path('/var/lib/kube-cert-renewer/state.json'))).toBe(true);
    expect((await c.run(['dpkg-query', '-W', '-f=${db:Status-Abbrev}', 'kube-cert-renewer'])).trim()).toBe('rc');
  });

  it('installing again keeps the operator\'s config and enables the timer again', async () => {
    await c.run(['dpkg', '-i', '/root/kube-cert-renewer.deb']);
    expect(readFileSync(c.path('/etc/kube-cert-renewer/config.yaml'), 'utf8')).toBe(CONFIG);
    expect((await c.exec(['systemctl', 'is-enabled', 'kube-cert-renewer.timer'])).stdout.trim()).toBe('enabled');
    expect(await show('kube-cert-renewer.timer', 'ActiveState')).toBe('active');
  });

  it('dpkg -P also deletes the config and the state', async () => {
    await c.run(['dpkg', '-P', 'kube-cert-renewer']);
    expect(existsSync(c.path('/etc/kube-cert-renewer'))).toBe(false);
    expect(existsSync(c.path('/var/lib/kube-cert-renewer'))).toBe(false);
    expect(existsSync(c.path('/usr/bin/kube-cert-renewer'))).toBe(false);
    expect((await c.exec(['dpkg-query', '-W', 'kube-cert-renewer'])).code).not.toBe(0);
    // no mask or enablement symlink is left behind
    expect(await sh('ls /etc/systemd/system /etc/systemd/system/timers.target.wants')).not.toMatch(/kube-cert-renewer/);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(250);
  }
}
