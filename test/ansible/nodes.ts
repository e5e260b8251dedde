// Three kubeadm control-plane nodes, each a booted Debian 12 container (systemd-nspawn --private-network: its own
// network namespace with only a loopback device) with python3 and python3-apt for Ansible, a kubeadm PKI made with
// openssl whose leaves are all due under renewInterval 30d, and the system test's stand-ins for the kubelet and
// the control-plane components (a real etcd, openssl s_server for the others).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Fixture, createKubeadmTree } from '../helpers/kubeadm-fixture.js';
import { Container } from '../system/container.js';
import { freshRootfs } from '../system/rootfs.js';
import { STAND_IN_UNITS, installStandIns } from '../system/standins.js';

/** What Ansible needs on a managed node beyond the system test's root filesystem. */
export const ANSIBLE_NODE_PACKAGES = ['python3', 'python3-apt'];

export interface Node {
  name: string;
  c: Container;
  fx: Fixture;
  remove: () => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(250);
  }
}

export function etcdHealth(c: Container) {
  return c.exec(['etcdctl', '--endpoints=https://127.0.0.1:2379', '--cacert=/etc/kubernetes/pki/etcd/ca.crt',
    '--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt', '--key=/etc/kubernetes/pki/etcd/healthcheck-client.key',
    '--command-timeout=3s', 'endpoint', 'health'], { env: { ETCDCTL_API: '3' } });
}

/** Builds the trees one after the other (the later ones reuse the first one's keys), then boots all at once. */
export async function bootNodes(names: readonly string[]): Promise<Node[]> {
  const trees: Array<{ name: string; dir: string; remove: () => void; fx?: Fixture; c?: Container }> = [];
  try {
    for (const name of names) {
      const rootfs = freshRootfs(ANSIBLE_NODE_PACKAGES);
      const tree: (typeof trees)[number] = { name, ...rootfs };
      trees.push(tree);
      tree.fx = await createKubeadmTree(rootfs.dir, {
        issuedDaysAgo: 40, kubeletConf: 'embedded', advertiseAddress: '127.0.0.1', hostname: name, reuseKeys: true,
      });
      installStandIns(rootfs.dir);
      writeFileSync(join(rootfs.dir, 'etc/hostname'), `${name}\n`);
    }
    const booted = await Promise.allSettled(trees.map(async (t) => {
      t.c = await Container.boot(t.dir, join(t.dir, '..', 'console.log'));
    }));
    const failed = booted.find((b): b is PromiseRejectedResult => b.status === 'rejected');
    if (failed) throw failed.reason as Error;
    const nodes = trees.map((t) => ({ name: t.name, c: t.c as Container, fx: t.fx as Fixture, remove: t.remove }));
    for (const n of nodes) {
      for (const unit of STAND_IN_UNITS) {
        const state = (await n.c.run(['systemctl', 'show', '-P', 'ActiveState', unit])).trim();
        if (state !== 'active') throw new Error(`${n.name}: ${unit} is ${state}`);
      }
      await waitFor(async () => (await etcdHealth(n.c)).code === 0, 30_000, `etcd on ${n.name}`);
    }
    return nodes;
  } catch (err) {
    await Promise.all(trees.map(async (t) => {
      await t.c?.destroy();
      t.remove();
    }));
    throw err;
  }
}

export async function destroyNodes(nodes: readonly Node[]): Promise<void> {
  await Promise.all(nodes.map(async (n) => {
    await n.c.destroy();
    n.remove();
  }));
}
