/**
 * `restart.mode: auto` against two stand-in apiservers (small TLS servers): one reloads its serving certificate when
 * the file changes (as kube-apiserver does), one only picks it up when its static pod is restarted. `auto` restarts
 * only the second, proving the first serves the new certificate over fresh handshakes; `rollback` works for both.
 * What they serve is read with openssl s_client.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Fixture, createKubeadmTree } from './helpers/kubeadm-fixture.js';
import { runCli, runCliAsync, snapshotFiles, statusJson, writeConfig } from './helpers/cli.js';
import { type FakeApiserver, startFakeApiserver } from './helpers/fake-apiserver.js';
import { freePorts } from './helpers/ports.js';
import { pemToDer, servedCertDer } from './helpers/served-cert.js';
import { StandinKubelet } from './helpers/standin-kubelet.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function node(mode: 'hot-reload' | 'restart' | 'none', config: string, externalEtcd = false): Promise<{ fx: Fixture; port: number; apiserver: FakeApiserver }> {
  const [etcdClient, etcdPeer, etcdMetrics, apiserver, controllerManager, scheduler] = await freePorts(6) as [number, number, number, number, number, number];
  const dir = mkdtempSync(join(tmpdir(), 'kcr-reload-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const fx = await createKubeadmTree(dir, {
    reuseKeys: true, issuedDaysAgo: 40, ports: { etcdClient, etcdPeer, etcdMetrics, apiserver, controllerManager, scheduler },
    // never contacted: with external etcd the restart gate is skipped (test traffic stays on loopback)
    ...(externalEtcd ? { externalEtcd: true, externalEtcdEndpoint: `https://127.0.0.1:${etcdClient}` } : {}),
  });
  writeConfig(fx.root, `restart:\n  verifyTimeout: 30s\n${config}`);
  if (mode === 'none') return { fx, port: etcdClient, apiserver: { listens: 0, reloads: 0, stop: async () => undefined } };
  const server = await startFakeApiserver(fx.root, apiserver, mode);
  cleanups.push(() => server.stop());
  return { fx, port: apiserver, apiserver: server };
}

function events(stderr: string): Array<Record<string, unknown>> {
  return stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function journal(root: string): Record<string, unknown> {
  const backups = join(root, 'var/lib/kube-cert-renewer/backups');
  const [id] = readdirSync(backups).sort().reverse();
  return JSON.parse(readFileSync(join(backups, id as string, 'run.json'), 'utf8')) as Record<string, unknown>;
}

const served = async (port: number): Promise<Buffer> => servedCertDer(port);

describe('auto: reload instead of restart where the component reloads by itself', () => {
  it('an apiserver that reloads its serving certificate is not restarted; rollback is reloaded too', async () => {
    const { fx, port, apiserver } = await node('hot-reload', '  reloadBudget:\n    kube-apiserver: 20s\n');
    const old = pemToDer(join(fx.pkiDir, 'apiserver.crt'));
    const manifests = snapshotFiles(fx.manifestsDir);
    const r = await runCliAsync(['--root', fx.root, '--log-format', 'json', 'renew', 'apiserver']);
    expect(r.code, r.stderr).toBe(0);
    expect(apiserver.listens, 'never restarted').toBe(1);
    expect(apiserver.reloads).toBeGreaterThanOrEqual(1);
    const now = pemToDer(join(fx.pkiDir, 'apiserver.crt'));
    expect(now.equals(old)).toBe(false);
    expect((await served(port)).equals(now), 'serves the renewed apiserver.crt').toBe(true);
    expect(snapshotFiles(fx.manifestsDir), 'no manifest was annotated').toEqual(manifests);
    const decided = events(r.stderr).find((e) => e.component === 'kube-apiserver' && e.action === 'reload');
    expect(String(decided?.why)).toMatch(/watches its serving certificate file/);
    expect(journal(fx.root)).toMatchObject({ phase: 'done', actions: [{ component: 'kube-apiserver', action: 'reload' }] });
    // status says what the last run did per component, and why
    const { report } = statusJson(fx.root);
    expect((report as unknown as { lastRun: { actions: unknown } }).lastRun.actions).toEqual([
      { component: 'kube-apiserver', action: 'reload', why: expect.stringMatching(/watches its serving certificate file/) as unknown },
    ]);
    expect(runCli(['--root', fx.root, 'status']).stdout).toMatch(/^ {2}kube-apiserver: reloaded, not restarted \(kube-apiserver watches/m);

    const rb = await runCliAsync(['--root', fx.root, '--log-format', 'json', 'rollback']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(apiserver.listens, 'rollback did not restart it either').toBe(1);
    expect((await served(port)).equals(old), 'serves the old certificate again').toBe(true);
  });

  it('an apiserver that does not reload is restarted after its budget, and rollback restarts it back', async () => {
    const { fx, port, apiserver } = await node('restart', '  reloadBudget:\n    kube-apiserver: 3s\n');
    const before = snapshotFiles(fx.pkiDir);
    const old = pemToDer(join(fx.pkiDir, 'apiserver.crt'));
    const r = await runCliAsync(['--root', fx.root, '--log-format', 'json', 'renew', 'apiserver']);
    expect(r.code, r.stderr).toBe(0);
    expect(apiserver.listens, 'restarted once').toBe(2);
    expect((await served(port)).equals(pemToDer(join(fx.pkiDir, 'apiserver.crt')))).toBe(true);
    const fallback = events(r.stderr).find((e) => e.component === 'kube-apiserver' && e.action === 'restart');
    expect(String(fallback?.msg)).toMatch(/did not show the new certificates by itself \(not reloaded within 3s/);
    expect(journal(fx.root)).toMatchObject({ phase: 'done', restarted: ['kube-apiserver'], actions: [{ component: 'kube-apiserver', action: 'restart' }] });

    const rb = await runCliAsync(['--root', fx.root, '--log-format', 'json', 'rollback']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(apiserver.listens, 'rollback restarted it').toBe(3);
    const after = snapshotFiles(fx.pkiDir);
    for (const [rel, b] of before) expect(after.get(rel)?.content.equals(b.content), rel).toBe(true);
    expect((await served(port)).equals(old)).toBe(true);
  });

  it('always restarts at once, without waiting for a reload', async () => {
    const { fx, apiserver } = await node('restart', '  mode: always\n');
    const r = await runCliAsync(['--root', fx.root, '--log-format', 'json', 'renew', 'apiserver']);
    expect(r.code, r.stderr).toBe(0);
    expect(apiserver.listens).toBe(2);
    expect(String(events(r.stderr).find((e) => e.component === 'kube-apiserver' && e.action === 'restart')?.why)).toBe('restart.mode is always');
    expect(events(r.stderr).some((e) => e.action === 'reload'), r.stderr).toBe(false);
  });

  it('external etcd: no cluster lock and no quorum guard, said once in the journal', async () => {
    const { fx, apiserver } = await node('restart', '  mode: always\n', true);
    const r = await runCliAsync(['--root', fx.root, '--log-format', 'json', 'renew', 'apiserver']);
    expect(r.code, r.stderr).toBe(0);
    expect(apiserver.listens).toBe(2);
    const said = events(r.stderr).filter((e) => /^external etcd: no cluster restart lock and no quorum guard/.test(String(e.msg)));
    expect(said, r.stderr).toHaveLength(1);
    expect(r.stderr).not.toMatch(/took the cluster restart lock|etcd does not answer/);
  });

  it('auto: an etcd that is down (crash-looping) is restarted at once, not waited for', async () => {
    const { fx, port } = await node('none', '  reloadBudget:\n    etcd: 60s\n');
    const kubelet = await StandinKubelet.start({ root: fx.root });
    cleanups.push(() => kubelet.stop());
    await kubelet.crashEtcd();
    const started = Date.now();
    const r = await runCliAsync(['--root', fx.root, '--log-format', 'json', 'renew', 'etcd-server', 'etcd-peer']);
    expect(r.code, `${r.stderr}\n${kubelet.log.slice(-2000)}`).toBe(0);
    expect(kubelet.starts).toHaveLength(2);
    expect(Date.now() - started, 'did not wait out the 60 s reload budget').toBeLessThan(45_000);
    const fallback = events(r.stderr).find((e) => e.component === 'etcd' && e.action === 'restart');
    expect(String(fallback?.msg)).toMatch(/refuses connections: ECONNREFUSED\); restarting it/);
    const cred = { cert: join(fx.pkiDir, 'apiserver-etcd-client.crt'), key: join(fx.pkiDir, 'apiserver-etcd-client.key'), caFile: join(fx.pkiDir, 'etcd/ca.crt') };
    expect((await servedCertDer(port, cred)).equals(pemToDer(join(fx.pkiDir, 'etcd/server.crt')))).toBe(true);
  });
});
