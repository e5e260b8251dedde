/**
 * End to end against a real etcd on loopback: the stand-in kubelet runs Debian's etcd from the fixture's etcd.yaml
 * and recreates it when the manifest changes. The CLI renews etcd's certificates, bounces etcd through the restart
 * annotation, verifies it, and rolls back when etcd does not come back. What etcd serves is checked with openssl
 * s_client and etcdctl, never with product code.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Fixture, createKubeadmTree } from './helpers/kubeadm-fixture.js';
import { readCert } from './helpers/openssl.js';
import { type CliResult, runCli, runCliAsync, snapshotFiles, statusJson, writeConfig } from './helpers/cli.js';
import { freePorts } from './helpers/ports.js';
import { StandinKubelet } from './helpers/standin-kubelet.js';
import { etcdctlHealth, pemToDer, servedCertDer } from './helpers/served-cert.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Setup {
  fx: Fixture;
  root: string;
  pki: string;
  kubelet: StandinKubelet;
  clientPort: number;
  peerPort: number;
}

async function setup(options: { mode: 'restart' | 'never-restart'; verifyTimeout: string; expired?: boolean }): Promise<Setup> {
  const [etcdClient, etcdPeer, etcdMetrics, apiserver, controllerManager, scheduler] = await freePorts(6) as [number, number, number, number, number, number];
  const dir = mkdtempSync(join(tmpdir(), 'kcr-etcd-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const fx = await createKubeadmTree(dir, {
    reuseKeys: true,
    ...(options.expired ? { expired: true } : { issuedDaysAgo: 40 }),
    advertiseAddress: '127.0.0.1',
    ports: { etcdClient, etcdPeer, etcdMetrics, apiserver, controllerManager, scheduler },
  });
  writeConfig(fx.root, [
    'apiVersion: kube-cert-renewer.io/v1alpha1',
    'kind: RenewerConfiguration',
    'restart:',
    '  mode: always', // these tests are about the restart path; test/cluster-*.test.ts covers auto
    '  verify: true',
    `  verifyTimeout: ${options.verifyTimeout}`,
    '',
  ].join('\n'));
  const kubelet = await StandinKubelet.start({ root: fx.root, mode: options.mode });
  cleanups.push(() => kubelet.stop());
  return { fx, root: fx.root, pki: fx.pkiDir, kubelet, clientPort: etcdClient, peerPort: etcdPeer };
}

function explain(r: CliResult, s: Setup): string {
  return `exit ${r.code}\n--- stderr ---\n${r.stderr}\n--- etcd ---\n${s.kubelet.log.slice(-3000)}`;
}

function jsonLines(stderr: string): Array<Record<string, unknown>> {
  return stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function journals(root: string): Array<Record<string, unknown>> {
  const backups = join(root, 'var/lib/kube-cert-renewer/backups');
  return readdirSync(backups).sort().map((id) => JSON.parse(readFileSync(join(backups, id, 'run.json'), 'utf8')) as Record<string, unknown>);
}

function state(root: string): Record<string, any> {
  return JSON.parse(readFileSync(join(root, 'var/lib/kube-cert-renewer/state.json'), 'utf8')) as Record<string, any>;
}

/** What etcd serves on its client port (verified against the etcd CA and 127.0.0.1) and on its peer port. */
async function served(s: Setup): Promise<{ client: Buffer; peer: Buffer }> {
  const opts = { cert: join(s.pki, 'apiserver-etcd-client.crt'), key: join(s.pki, 'apiserver-etcd-client.key'), caFile: join(s.pki, 'etcd/ca.crt') };
  return { client: await servedCertDer(s.clientPort, opts), peer: await servedCertDer(s.peerPort, opts) };
}

const pkiSnapshot = (s: Setup) => snapshotFiles(s.fx.kubernetesDir, (rel) => rel === 'manifests');

function expectSameFiles(before: ReturnType<typeof snapshotFiles>, after: ReturnType<typeof snapshotFiles>): void {
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [rel, b] of before) {
    const a = after.get(rel);
    expect(a?.content.equals(b.content), `${rel} is byte-identical`).toBe(true);
    expect(a?.mode.toString(8), `${rel} mode`).toBe(b.mode.toString(8));
  }
}

describe('restart and verify etcd (real etcd on loopback)', () => {
  it('renews etcd-server/peer, bounces etcd once, and etcd serves the new certificates', async () => {
    const s = await setup({ mode: 'restart', verifyTimeout: '60s' });
    const oldServer = pemToDer(join(s.pki, 'etcd/server.crt'));
    const oldPeer = pemToDer(join(s.pki, 'etcd/peer.crt'));
    expect(await served(s)).toEqual({ client: oldServer, peer: oldPeer }); // the probe sees what it should before the run
    const otherManifests = snapshotFiles(s.fx.manifestsDir, (rel) => rel === 'etcd.yaml');

    const r = await runCliAsync(['--root', s.root, '--log-format', 'json', 'renew', 'etcd-server', 'etcd-peer', 'etcd-healthcheck-client']);
    expect(r.code, explain(r, s)).toBe(0);

    const newServer = pemToDer(join(s.pki, 'etcd/server.crt'));
    const newPeer = pemToDer(join(s.pki, 'etcd/peer.crt'));
    expect(newServer.equals(oldServer)).toBe(false);
    expect(newPeer.equals(oldPeer)).toBe(false);
    // etcd serves exactly the files now on disk, and they verify against the etcd CA for 127.0.0.1
    const now = await served(s);
    expect(now.client.equals(newServer), 'client port serves the new server.crt').toBe(true);
    expect(now.peer.equals(newPeer), 'peer port serves the new peer.crt').toBe(true);
    // the renewed healthcheck client certificate is accepted by etcd (etcdctl verifies the server too)
    const health = await etcdctlHealth(s.clientPort, join(s.pki, 'etcd/healthcheck-client.crt'), join(s.pki, 'etcd/healthcheck-client.key'), join(s.pki, 'etcd/ca.crt'));
    expect(health.ok, health.output).toBe(true);

    // exactly one restart, from the annotated manifest; no other manifest touched
    expect(s.kubelet.starts).toHaveLength(2);
    expect(s.kubelet.starts[1]?.manifest).toContain('kube-cert-renewer/restartedAt');
    expect(snapshotFiles(s.fx.manifestsDir, (rel) => rel === 'etcd.yaml')).toEqual(otherManifests);

    const [journal, ...more] = journals(s.root);
    expect(more).toEqual([]);
    expect(journal).toMatchObject({ phase: 'done', restarts: ['etcd'], restarted: ['etcd'], verified: ['etcd'] });
    const lastRun = state(s.root).lastRun as { result: string; restarted: string[]; renewed: string[] };
    expect(lastRun).toMatchObject({ result: 'success', restarted: ['etcd'] });
    expect([...lastRun.renewed].sort()).toEqual(['etcd-healthcheck-client', 'etcd-peer', 'etcd-server']);
    const events = jsonLines(r.stderr);
    expect(events.find((e) => e.component === 'etcd' && /serves the new certificates/.test(String(e.msg))), r.stderr).toBeDefined();
  });

  it('rolls back when etcd never restarts: old files byte for byte, journal rolled-back, old serials in status', async () => {
    const s = await setup({ mode: 'never-restart', verifyTimeout: '5s' });
    const before = pkiSnapshot(s);
    const oldSerials = { server: readCert(join(s.pki, 'etcd/server.crt')).serial, peer: readCert(join(s.pki, 'etcd/peer.crt')).serial };

    const started = Date.now();
    const r = await runCliAsync(['--root', s.root, '--log-format', 'json', 'renew', 'etcd-server', 'etcd-peer']);
    const seconds = (Date.now() - started) / 1000;
    expect(r.code, explain(r, s)).toBe(1);
    expect(seconds, 'waited restart.verifyTimeout before giving up').toBeGreaterThanOrEqual(5);
    // the stand-in saw the annotation and ignored it: the failure is the one we staged
    expect(s.kubelet.ignoredChanges).toBeGreaterThanOrEqual(1);
    expect(s.kubelet.starts).toHaveLength(1);

    expectSameFiles(before, pkiSnapshot(s));
    const [journal] = journals(s.root);
    expect(journal?.phase).toBe('rolled-back');
    expect(String(journal?.error)).toMatch(/etcd/);
    const events = jsonLines(r.stderr);
    const rollingBack = events.find((e) => e.level === 50 && e.component === 'etcd' && /rolling back/.test(String(e.msg)));
    expect(rollingBack, r.stderr).toBeDefined();
    expect(String(rollingBack?.msg)).toMatch(/etcd did not come back/);
    expect(state(s.root).lastRun).toMatchObject({ result: 'rolled-back', renewed: [] });

    const { report } = statusJson(s.root);
    const serial = (name: string) => report.certificates.find((c) => c.name === name)?.serial;
    expect({ server: serial('etcd-server'), peer: serial('etcd-peer') }).toEqual(oldSerials);
    // and etcd (which re-reads its certificate files per handshake) serves the old ones again
    expect((await served(s)).client.equals(pemToDer(join(s.pki, 'etcd/server.crt')))).toBe(true);
  });

  it('keeps the new certificates, loudly, when the previous ones have expired', async () => {
    const s = await setup({ mode: 'never-restart', verifyTimeout: '5s', expired: true });
    const before = pkiSnapshot(s);
    expect(readCert(join(s.pki, 'etcd/server.crt')).notAfter.getTime()).toBeLessThan(Date.now());

    const r = await runCliAsync(['--root', s.root, '--log-format', 'journal', 'renew', 'etcd-server', 'etcd-peer']);
    expect(r.code, explain(r, s)).toBe(1);

    const after = pkiSnapshot(s);
    for (const rel of ['pki/etcd/server.crt', 'pki/etcd/server.key', 'pki/etcd/peer.crt', 'pki/etcd/peer.key']) {
      expect(after.get(rel)?.content.equals(before.get(rel)?.content as Buffer), `${rel} was kept new`).toBe(false);
    }
    expect(readCert(join(s.pki, 'etcd/server.crt')).notAfter.getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000);
    const [journal] = journals(s.root);
    expect(journal?.phase).toBe('failed');
    const fatal = r.stderr.split('\n').filter((l) => l.startsWith('<2>'));
    expect(fatal.some((l) => /etcd/.test(l) && /NOT rolling back/.test(l)), r.stderr).toBe(true);
  });

  it('`rollback` restores the previous files byte for byte and etcd serves the old certificate again', async () => {
    const s = await setup({ mode: 'restart', verifyTimeout: '60s' });
    const before = pkiSnapshot(s);
    const oldServer = pemToDer(join(s.pki, 'etcd/server.crt'));

    const run = await runCliAsync(['--root', s.root, 'renew', 'etcd-server', 'etcd-peer']);
    expect(run.code, explain(run, s)).toBe(0);
    expect((await served(s)).client.equals(oldServer)).toBe(false);
    expect(s.kubelet.starts).toHaveLength(2);

    const rb = await runCliAsync(['--root', s.root, '--log-format', 'json', 'rollback']);
    expect(rb.code, explain(rb, s)).toBe(0);
    expectSameFiles(before, pkiSnapshot(s));
    expect(s.kubelet.starts, 'rollback bounced etcd again').toHaveLength(3);
    expect((await served(s)).client.equals(oldServer), 'etcd serves the old certificate').toBe(true);
    expect(journals(s.root)[0]?.phase).toBe('rolled-back');

    const unknown = runCli(['--root', s.root, 'rollback', '20200101T000000.000Z-000000']);
    expect(unknown.code, unknown.stderr).toBe(2);
    expect(unknown.stderr).toMatch(/no run 20200101T000000.000Z-000000/);
  });
});
