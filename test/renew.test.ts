/**
 * Renewal, checked file by file with openssl: identity kept, new keys, right CA, validity, modes, every other file
 * byte-identical, a second run a no-op, nothing lost when the process dies mid-write.
 */
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Fixture, type FixtureOptions } from './helpers/kubeadm-fixture.js';
import { useTrees } from './helpers/host-trees.js';
import { keyMatchesCert, readCert } from './helpers/openssl.js';
import { planJson, runCli, runCliAsync, snapshotFiles, statusJson, writeConfig } from './helpers/cli.js';
import { type Credential, credentialOf, expectKubeconfigOnlyCredentialsChanged, expectRenewed, stateFile } from './helpers/renewal-checks.js';
import { processStartTime } from '../src/host/proc.js';

const trees = useTrees('kcr-renew-');
const tree = (options: FixtureOptions): Promise<Fixture> => trees.make(options);

const CONFIG = `renewInterval: 30d
renewBefore: 20d
validity: 200d
restart:
  enabled: false
`;
const STATE_DIR = 'var/lib/kube-cert-renewer';
const ourFiles = (rel: string): boolean => rel.startsWith(STATE_DIR) || rel.startsWith('etc/kube-cert-renewer');

function before(fx: Fixture, names: string[]): Map<string, Credential & { texts: Map<string, string> }> {
  return new Map(names.map((n) => {
    const c = credentialOf(fx, n);
    return [n, { ...c, texts: new Map(c.files.map((f) => [f, readFileSync(f, 'utf8')])) }];
  }));
}

/** Run `run` and check: renewed exactly `expected`, each checked with openssl; every other file byte-identical. */
function runAndCheck(fx: Fixture, expected: string[], args: string[] = ['run'], expectedCode = 0): void {
  const applicable = fx.entries.filter((e) => e.kind !== 'ca').map((e) => e.name);
  const old = before(fx, applicable);
  const snapshot = snapshotFiles(fx.root, ourFiles);
  const runAt = new Date();
  const r = runCli(['--root', fx.root, ...args]);
  expect(r.code, r.stderr).toBe(expectedCode);
  for (const name of expected) {
    const b = old.get(name);
    if (!b) throw new Error(`fixture has no ${name}`);
    expectRenewed(fx, name, b, 200, runAt);
    if (fx.entry(name).kind === 'kubeconfig') {
      const file = b.files[0] as string;
      expectKubeconfigOnlyCredentialsChanged(b.texts.get(file) as string, readFileSync(file, 'utf8'));
    }
  }
  const renewedFiles = new Set(expected.flatMap((n) => old.get(n)?.files ?? []).map((f) => relative(fx.root, f)));
  const after = snapshotFiles(fx.root, ourFiles);
  expect([...after.keys()].sort(), 'no file appears or disappears').toEqual([...snapshot.keys()].sort());
  for (const [rel, was] of snapshot) {
    if (renewedFiles.has(rel)) continue;
    expect(after.get(rel), `${rel} must be byte-identical`).toEqual(was);
  }
  // The state file records each renewal; the backups hold the old files byte for byte.
  const state = stateFile(fx.root);
  for (const name of expected) {
    const s = state.entries[name];
    expect(s, name).toBeDefined();
    expect(s?.newSerial).toBe(readCert(credentialOf(fx, name).certPem).serial);
    expect(s?.oldSerial).toBe(readCert(old.get(name)?.certPem as string).serial);
    const runDir = join(fx.root, STATE_DIR, 'backups', s?.runId as string);
    for (const f of old.get(name)?.files ?? []) {
      expect(readFileSync(join(runDir, 'old', relative(fx.root, f))), `backup of ${f}`).toEqual(snapshot.get(relative(fx.root, f))?.content);
    }
    expect(existsSync(join(runDir, 'new')), 'staged copies are removed after commit').toBe(false);
  }
  // A second run right after changes nothing.
  const settled = snapshotFiles(fx.root, ourFiles);
  const again = runCli(['--root', fx.root, 'run']);
  expect(again.code, again.stderr).toBe(expectedCode);
  expect(again.stderr).toMatch(/nothing to renew/);
  expect(snapshotFiles(fx.root, ourFiles)).toEqual(settled);
}

const ALL_LOCAL = [
  'admin.conf', 'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'controller-manager.conf',
  'etcd-healthcheck-client', 'etcd-peer', 'etcd-server', 'front-proxy-client', 'scheduler.conf', 'super-admin.conf',
];
const WITHOUT_ETCD = ALL_LOCAL.filter((n) => !n.startsWith('etcd-') && n !== 'apiserver-etcd-client');

describe('run renews every due entry, checked with openssl', () => {
  it.each<[string, FixtureOptions, string[], number?]>([
    ['RSA-2048', { issuedDaysAgo: 40 }, ALL_LOCAL],
    ['RSA-4096', { keyAlgorithm: 'rsa4096', issuedDaysAgo: 40 }, ALL_LOCAL],
    ['ECDSA P-256', { keyAlgorithm: 'ecdsa-p256', issuedDaysAgo: 40 }, ALL_LOCAL],
    ['PKCS#8 keys', { keyEncoding: 'pkcs8', issuedDaysAgo: 40 }, ALL_LOCAL],
    ['old-style notBefore', { notBeforeStyle: 'ca', issuedDaysAgo: 40 }, ALL_LOCAL],
    // The kubelet's own client certificate expired too: its rotation is broken, so the run still exits 1.
    ['expired leaves', { expired: true }, ALL_LOCAL, 1],
    ['external etcd', { externalEtcd: true, issuedDaysAgo: 40 }, WITHOUT_ETCD],
    ['joined node', { joinedNode: true, issuedDaysAgo: 40 }, ALL_LOCAL.filter((n) => n !== 'super-admin.conf')],
    ['embedded kubelet.conf', { kubeletConf: 'embedded', issuedDaysAgo: 40 }, [...ALL_LOCAL, 'kubelet.conf']],
  ])('%s', async (_, options, expected, code = 0) => {
    const fx = await tree(options);
    writeConfig(fx.root, CONFIG);
    runAndCheck(fx, expected, ['run'], code);
  });

  it('old-style notBefore renewed 5 days ago is not due', async () => {
    const fx = await tree({ notBeforeStyle: 'ca', issuedDaysAgo: 5 });
    writeConfig(fx.root, CONFIG);
    const snapshot = snapshotFiles(fx.root);
    const r = runCli(['--root', fx.root, 'run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/nothing to renew/);
    expect(snapshotFiles(fx.root, ourFiles)).toEqual(new Map([...snapshot].filter(([k]) => !ourFiles(k))));
  });

  it('external CA: its leaves are reported, never written; the others renew', async () => {
    const fx = await tree({ externalCA: true, issuedDaysAgo: 40 });
    writeConfig(fx.root, CONFIG);
    const signedByCa = fx.entries.filter((e) => e.kind !== 'ca' && e.caName === 'ca').map((e) => e.name);
    runAndCheck(fx, ALL_LOCAL.filter((n) => !signedByCa.includes(n)));
    expect(statusJson(fx.root).report.certificates.find((c) => c.name === 'apiserver')).toMatchObject({ blocker: 'external-ca', due: true });
  });

  it('monitor mode writes nothing at all', async () => {
    const fx = await tree({ expired: true });
    writeConfig(fx.root, `${CONFIG}mode: monitor\n`);
    const snapshot = snapshotFiles(fx.root);
    const r = runCli(['--root', fx.root, 'run']);
    expect(r.code).toBe(1); // expired certificates: unhealthy
    expect(r.stderr).toMatch(/renewal due .*mode is monitor/);
    expect(snapshotFiles(fx.root)).toEqual(snapshot);
    expect(existsSync(join(fx.root, STATE_DIR))).toBe(false);
    const renew = runCli(['--root', fx.root, 'renew', 'apiserver']);
    expect(renew.code).toBe(1);
    expect(renew.stderr).toMatch(/mode is monitor/);
    expect(snapshotFiles(fx.root)).toEqual(snapshot);
  });

  it('forced renewal of one entry touches only its files', async () => {
    const fx = await tree({ issuedDaysAgo: 2 });
    writeConfig(fx.root, CONFIG);
    runAndCheck(fx, ['front-proxy-client'], ['renew', 'front-proxy-client']);
  });

  it('renew rejects unknown names and CAs with exit 2 and the list of valid names', async () => {
    const fx = await tree({});
    const snapshot = snapshotFiles(fx.root);
    const unknown = runCli(['--root', fx.root, 'renew', 'apiserverr']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown entry: apiserverr');
    expect(unknown.stderr).toContain('admin.conf, apiserver, apiserver-etcd-client');
    const ca = runCli(['--root', fx.root, 'renew', 'etcd-ca']);
    expect(ca.code).toBe(2);
    expect(ca.stderr).toContain('CAs cannot be renewed here: etcd-ca');
    expect(runCli(['--root', fx.root, 'renew']).code).toBe(2);
    expect(snapshotFiles(fx.root)).toEqual(snapshot);
  });
});

describe('plan', () => {
  it('lists what run would do and changes nothing', async () => {
    const fx = await tree({ notBeforeStyle: 'ca', issuedDaysAgo: 40, kubeletConf: 'embedded' });
    writeConfig(fx.root, 'renewInterval: 30d\nvalidity: 100d\n');
    const snapshot = snapshotFiles(fx.root);
    const { code, report: plan } = planJson(fx.root);
    expect(code).toBe(0);
    expect(plan.kind).toBe('RenewalPlan');
    expect(plan.renew.map((i) => i.name).sort()).toEqual([...ALL_LOCAL, 'kubelet.conf'].sort());
    expect(plan.renew.find((i) => i.name === 'apiserver')).toMatchObject({
      reasons: ['interval'], files: ['/etc/kubernetes/pki/apiserver.key', '/etc/kubernetes/pki/apiserver.crt'], restarts: ['kube-apiserver'],
    });
    expect(plan.restarts).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet']);
    const apiserver = plan.renew.find((i) => i.name === 'apiserver');
    expect(new Date(apiserver?.oldNotAfter ?? 0).getTime()).toBe(readCert(fx.entry('apiserver').certPath).notAfter.getTime());
    expect(runCli(['--root', fx.root, 'plan', '-o', 'wide']).stdout).toMatch(/^apiserver\s+interval\s+\d{4}-\d\d-\d\d → \d{4}-\d\d-\d\d\s+kube-apiserver\s+\/etc\/kubernetes\/pki\/apiserver\.key/m);
    expect(snapshotFiles(fx.root)).toEqual(snapshot);
  });
});

describe('bad entries and the transaction', () => {
  it('a bad entry is reported and skipped, the others still renew, exit 1', async () => {
    const fx = await tree({ issuedDaysAgo: 40 });
    writeConfig(fx.root, CONFIG);
    const pki = fx.pkiDir;
    writeFileSync(join(pki, 'apiserver-kubelet-client.key'), readFileSync(join(pki, 'front-proxy-client.key')));
    const bad = snapshotFiles(join(pki), (rel) => !rel.startsWith('apiserver-kubelet-client'));
    const r = runCli(['--root', fx.root, 'run']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('apiserver-kubelet-client: /etc/kubernetes/pki/apiserver-kubelet-client.key: does not match the certificate'); // host paths in logs
    expect(snapshotFiles(join(pki), (rel) => !rel.startsWith('apiserver-kubelet-client'))).toEqual(bad);
    expect(keyMatchesCert(join(pki, 'apiserver.crt'), join(pki, 'apiserver.key'))).toBe(true);
    expect(readCert(join(pki, 'apiserver.crt')).notBefore.getTime()).toBeGreaterThan(Date.now() - 3_600_000);
    // A forced renewal repairs it: the identity comes from the certificate, the key is new anyway.
    const repaired = runCli(['--root', fx.root, 'renew', 'apiserver-kubelet-client']);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(keyMatchesCert(join(pki, 'apiserver-kubelet-client.crt'), join(pki, 'apiserver-kubelet-client.key'))).toBe(true);
  });

  it('a process killed between a key and its certificate leaves nothing mismatched after the next run', async () => {
    const fx = await tree({ issuedDaysAgo: 40 });
    writeConfig(fx.root, CONFIG);
    // Files are written in entry order: admin.conf (1 file), then apiserver.key, apiserver.crt, ...
    const killed = await runCliAsync(['--root', fx.root, 'run'], { KUBE_CERT_RENEWER_FAULT: 'after-write:2' });
    expect(killed.signal).toBe('SIGKILL');
    const pki = fx.pkiDir;
    expect(keyMatchesCert(join(pki, 'apiserver.crt'), join(pki, 'apiserver.key')), 'the crash left the pair mismatched').toBe(false);
    const status = statusJson(fx.root);
    expect(status.code).toBe(1);
    expect(status.report.certificates.find((c) => c.name === 'apiserver')?.problems[0]?.code).toBe('key-mismatch');
    const r = runCli(['--root', fx.root, 'run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/finishing a run that was interrupted/);
    for (const n of ['apiserver', 'apiserver-etcd-client', 'etcd-server', 'front-proxy-client']) {
      const e = fx.entry(n);
      expect(keyMatchesCert(e.certPath, e.keyPath as string), n).toBe(true);
      expect(readCert(e.certPath).notBefore.getTime(), `${n} renewed`).toBeGreaterThan(Date.now() - 3_600_000);
    }
    expect(statusJson(fx.root).code).toBe(0);
    const backups = readdirSync(join(fx.root, STATE_DIR, 'backups'));
    expect(backups).toHaveLength(1); // the interrupted run was finished, not redone
    // Nothing is left in the PKI directory but the files themselves.
    expect(readdirSync(pki).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('a concurrent second run waits for the first; a stale lock from a dead process is taken over', async () => {
    const fx = await tree({ issuedDaysAgo: 40 });
    writeConfig(fx.root, CONFIG);
    const [a, b] = await Promise.all([runCliAsync(['--root', fx.root, 'run']), runCliAsync(['--root', fx.root, 'run'])]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect([a.stderr, b.stderr].filter((s) => /renewing 11 of 11/.test(s))).toHaveLength(1);
    expect([a.stderr, b.stderr].filter((s) => /nothing to renew/.test(s))).toHaveLength(1);
    const lock = join(fx.root, STATE_DIR, 'lock');
    writeFileSync(lock, JSON.stringify({ pid: 999_999, startTime: '1', bootId: '', command: 'run', since: '2020-01-01T00:00:00Z' }));
    const r = runCli(['--root', fx.root, 'run']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });

  it('a lock held by a live run makes the second give up with a clear message', async () => {
    const fx = await tree({ issuedDaysAgo: 1 });
    writeConfig(fx.root, CONFIG);
    const lock = join(fx.root, STATE_DIR, 'lock');
    runCli(['--root', fx.root, 'run']);
    const startTime = processStartTime(process.pid);
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    writeFileSync(lock, JSON.stringify({ pid: process.pid, startTime, bootId, command: 'run', since: '2026-01-01T00:00:00Z' }));
    const r = runCli(['--root', fx.root, 'run']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`another kube-cert-renewer run holds ${lock} (pid ${process.pid}, \`run\` since 2026-01-01T00:00:00Z)`);
    rmSync(lock);
  });
});
