// A real three-member etcd cluster (Debian's etcd 3.4) on 127.0.0.1 for HA tests: three kubeadm node roots (cp-1,
// cp-2, cp-3) sharing one PKI's CAs (openssl-made), each running its member through its own stand-in kubelet from its
// own etcd.yaml, peer and client TLS under the one etcd-ca. Independent of the product: no product imports.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Fixture, type FixtureOptions, type Ports, createKubeadmTree } from './kubeadm-fixture.js';
import { freePorts } from './ports.js';
import { StandinKubelet } from './standin-kubelet.js';

export interface ClusterNode {
  name: string;
  fx: Fixture;
  root: string;
  pki: string;
  ports: Ports;
  kubelet: StandinKubelet;
}

export interface EtcdCluster {
  nodes: ClusterNode[];
  stop(): Promise<void>;
}

/** Rewrite etcd.yaml so its member starts as one of `initialCluster` (name=peerURL,...) rather than alone. */
function joinManifest(file: string, initialCluster: string): void {
  const text = readFileSync(file, 'utf8');
  const next = text
    .replace(/^(\s*- )--initial-cluster=.*$/m, `$1--initial-cluster=${initialCluster}`)
    .replace(/^(\s*- )--initial-advertise-peer-urls=(.*)$/m, '$1--initial-advertise-peer-urls=$2\n$1--initial-cluster-state=new\n$1--initial-cluster-token=kcr-test');
  if (next === text || !next.includes(initialCluster)) throw new Error(`${file}: no --initial-cluster flag to rewrite`);
  writeFileSync(file, next, { mode: 0o600 });
}

/**
 * Create three node roots under `dir` and start their members together (a member of a new cluster is healthy only
 * once a quorum has started). `options` go to every node's fixture (e.g. issuedDaysAgo).
 */
export async function startEtcdCluster(dir: string, options: FixtureOptions = {}, size = 3): Promise<EtcdCluster> {
  const allPorts = await freePorts(size * 6);
  const names = Array.from({ length: size }, (_, i) => `cp-${i + 1}`);
  const portsOf = (i: number): Ports => {
    const [etcdClient, etcdPeer, etcdMetrics, apiserver, controllerManager, scheduler] = allPorts.slice(i * 6, i * 6 + 6) as [number, number, number, number, number, number];
    return { etcdClient, etcdPeer, etcdMetrics, apiserver, controllerManager, scheduler };
  };
  const fixtures: Fixture[] = [];
  for (const [i, name] of names.entries()) {
    const root = join(dir, name);
    mkdirSync(root, { recursive: true });
    fixtures.push(await createKubeadmTree(root, {
      reuseKeys: true, issuedDaysAgo: 40, ...options, hostname: name, advertiseAddress: '127.0.0.1', ports: portsOf(i),
      ...(i > 0 ? { sharedCasFrom: (fixtures[0] as Fixture).pkiDir } : {}),
    }));
  }
  const initialCluster = names.map((n, i) => `${n}=https://127.0.0.1:${portsOf(i).etcdPeer}`).join(',');
  for (const fx of fixtures) joinManifest(join(fx.manifestsDir, 'etcd.yaml'), initialCluster);
  const started = await Promise.allSettled(fixtures.map((fx) => StandinKubelet.start({ root: fx.root, readyTimeoutMs: 30_000 })));
  const kubelets = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(kubelets.map((k) => k.stop()));
    throw failed.reason;
  }
  const nodes = fixtures.map((fx, i) => ({
    name: names[i] as string, fx, root: fx.root, pki: fx.pkiDir, ports: portsOf(i), kubelet: kubelets[i] as StandinKubelet,
  }));
  return { nodes, stop: async () => void (await Promise.all(kubelets.map((k) => k.stop()))) };
}
