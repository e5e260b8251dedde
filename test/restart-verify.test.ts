/**
 * What counts as "restarted" when verifying a bounced static pod, against servers that behave like the real ones:
 * - kube-apiserver (≥ 1.28) and etcd pick up a new serving certificate from disk by themselves, so serving the new
 *   certificate proves nothing about a restart (the apiserver's etcd client certificate, for one, is only read at
 *   start): a server that hot-reloads but is never restarted must fail verification and be rolled back;
 * - a server that goes away and comes back with the new certificate was restarted;
 * - a server that goes away and comes back still serving the certificate it held before was restarted, but did not
 *   take the new certificate up: it fails verification and the run is rolled back;
 * - a component that was down before the run (crash-looping on an expired certificate) and comes up with the new
 *   certificates after the bounce is verified.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Fixture, createKubeadmTree } from './helpers/kubeadm-fixture.js';
import { runCliAsync, snapshotFiles, writeConfig } from './helpers/cli.js';
import { startFakeApiserver } from './helpers/fake-apiserver.js';
import { treeDigest } from './helpers/hostile.js';
import { freePorts } from './helpers/ports.js';
import { StandinKubelet } from './helpers/standin-kubelet.js';
import { pemToDer, servedCertDer } from './helpers/served-cert.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tree(verifyTimeout: string): Promise<{ fx: Fixture; ports: Record<string, number> }> {
  const [etcdClient, etcdPeer, etcdMetrics, apiserver, controllerManager, scheduler] = await freePorts(6) as [number, number, number, number, number, number];
  const ports = { etcdClient, etcdPeer, etcdMetrics, apiserver, controllerManager, scheduler };
  const dir = mkdtempSync(join(tmpdir(), 'kcr-verify-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const fx = await createKubeadmTree(dir, { reuseKeys: true, issuedDaysAgo: 40, ports });
  writeConfig(fx.root, `apiVersion: kube-cert-renewer.io/v1alpha1
kind: RenewerConfiguration
restart:
  mode: always
  verify: true
  verifyTimeout: ${verifyTimeout}
`);
  return { fx, ports };
}

function journalPhase(root: string): string {
  const backups = join(root, 'var/lib/kube-cert-renewer/backups');
  const [id] = readdirSync(backups);
  return (JSON.parse(readFileSync(join(backups, id as string, 'run.json'), 'utf8')) as { phase: string }).phase;
}

describe('restart verification against servers that reload certificates by themselves', () => {
  it('a kube-apiserver that hot-reloads its serving certificate but is never restarted fails verification', async () => {
    const { fx, ports } = await tree('5s');
    const apiserver = await startFakeApiserver(fx.root, ports.apiserver as number, 'hot-reload');
    cleanups.push(() => apiserver.stop());
    const before = snapshotFiles(fx.pkiDir);

    const r = await runCliAsync(['--root', fx.root, '--log-format', 'json', 'renew', 'apiserver']);
    expect(apiserver.reloads, 'the fake did pick up the new certificate without a restart').toBeGreaterThanOrEqual(1);
    expect(apiserver.listens, 'and was never restarted').toBe(1);
    expect(r.code, r.stderr).toBe(1);
    expect(journalPhase(fx.root)).toBe('rolled-back');
    const after = snapshotFiles(fx.pkiDir);
    for (const [rel, b] of before) expect(after.get(rel)?.content.equals(b.content), rel).toBe(true);
    expect(r.stderr).toMatch(/kube-apiserver did not come back/);
  });

  it('a kube-apiserver that goes away and comes back with the new certificate is verified', async () => {
    const { fx, ports } = await tree('30s');
    const apiserver = await startFakeApiserver(fx.root, ports.apiserver as number, 'restart');
    cleanups.push(() => apiserver.stop());

    const r = await runCliAsync(['--root', fx.root, '--log-format', 'json', 'renew', 'apiserver']);
    expect(r.code, r.stderr).toBe(0);
    expect(apiserver.listens).toBe(2);
    expect(journalPhase(fx.root)).toBe('done');
    expect((await servedCertDer(ports.apiserver as number)).equals(pemToDer(join(fx.pkiDir, 'apiserver.crt')))).toBe(true);
  });

  it('a kube-apiserver that restarts but comes back serving its old certificate fails verification and is rolled back', async () => {
    const { fx, ports } = await tree('5s');
    const apiserver = await startFakeApiserver(fx.root, ports.apiserver as number, 'restart-stale');
    cleanups.push(() => apiserver.stop());
    const pair = (d: Map<string, string>): Array<string | undefined> => [d.get('apiserver.crt'), d.get('apiserver.key')];
    const before = pair(treeDigest(fx.pkiDir));

    const r = await runCliAsync(['--root', fx.root, '--log-format', 'json', 'renew', 'apiserver']);
    expect(r.code, r.stderr).toBe(1);
    expect(journalPhase(fx.root)).toBe('rolled-back');
    expect(r.stderr).toMatch(/kube-apiserver did not come back with the new certificates within 5s: 127\.0\.0\.1:\d+ serves a certificate other than \/etc\/kubernetes\/pki\/apiserver\.crt/);
    // Bounced for the renewal (went away, came back with the old certificate), then again by the rollback.
    expect(apiserver.listens, 'the fake was restarted, for the renewal and for the rollback').toBe(3);
    expect(pair(treeDigest(fx.pkiDir)), 'apiserver.crt and .key restored byte for byte (sha256)').toEqual(before);
    expect((await servedCertDer(ports.apiserver as number)).equals(pemToDer(join(fx.pkiDir, 'apiserver.crt'))), 'the restored certificate is served').toBe(true);
  });

  it('etcd that was down before the run and comes up after the bounce is verified', async () => {
    const { fx, ports } = await tree('60s');
    const kubelet = await StandinKubelet.start({ root: fx.root });
    cleanups.push(() => kubelet.stop());
    await kubelet.crashEtcd();

    const r = await runCliAsync(['--root', fx.root, '--log-format', 'json', 'renew', 'etcd-server', 'etcd-peer']);
    expect(r.code, `${r.stderr}\n${kubelet.log.slice(-2000)}`).toBe(0);
    expect(kubelet.starts).toHaveLength(2);
    expect(journalPhase(fx.root)).toBe('done');
    const cred = { cert: join(fx.pkiDir, 'apiserver-etcd-client.crt'), key: join(fx.pkiDir, 'apiserver-etcd-client.key'), caFile: join(fx.pkiDir, 'etcd/ca.crt') };
    expect((await servedCertDer(ports.etcdClient as number, cred)).equals(pemToDer(join(fx.pkiDir, 'etcd/server.crt')))).toBe(true);
  });
});
