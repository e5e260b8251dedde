/**
 * The three-member etcd harness itself, checked with etcdctl and openssl: three members under one etcd-ca, each
 * node's certificates verifying against the shared CA, and the prober seeing a stopped member as down.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type EtcdCluster, startEtcdCluster } from './helpers/etcd-cluster.js';
import { EtcdProber, overlaps } from './helpers/etcd-prober.js';
import { verifyChain } from './helpers/openssl.js';

const dir = mkdtempSync(join(tmpdir(), 'kcr-cluster-harness-'));
let cluster: EtcdCluster | undefined;
afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('three-member etcd harness', () => {
  it('runs three members under one etcd-ca; the prober records a stopped member', async () => {
    cluster = await startEtcdCluster(dir);
    const [n1, n2, n3] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0], typeof cluster.nodes[0]];
    for (const n of [n2, n3]) {
      expect(verifyChain(join(n1.pki, 'etcd/ca.crt'), join(n.pki, 'etcd/server.crt')).ok, n.name).toBe(true);
      expect(verifyChain(join(n1.pki, 'ca.crt'), join(n.pki, 'apiserver.crt')).ok, n.name).toBe(true);
    }
    const out = execFileSync('/usr/bin/etcdctl', [
      '--endpoints', `https://127.0.0.1:${n2.ports.etcdClient}`, '--cacert', join(n1.pki, 'etcd/ca.crt'),
      '--cert', join(n3.pki, 'etcd/healthcheck-client.crt'), '--key', join(n3.pki, 'etcd/healthcheck-client.key'),
      'member', 'list',
    ], { env: { ETCDCTL_API: '3', PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
    expect(out.trim().split('\n').map((l) => l.split(', ')[2]).sort()).toEqual(['cp-1', 'cp-2', 'cp-3']);

    const prober = new EtcdProber(cluster.nodes.map((n) => ({ name: n.name, metricsPort: n.ports.etcdMetrics })));
    await new Promise((r) => setTimeout(r, 500));
    await n3.kubelet.crashEtcd();
    await new Promise((r) => setTimeout(r, 800));
    const members = await prober.stop();
    expect(members.find((m) => m.name === 'cp-3')?.down.length).toBe(1);
    expect(members.find((m) => m.name === 'cp-1')?.down).toEqual([]);
    expect(overlaps(members)).toEqual([]);
  }, 90_000);
});
