/**
 * An HA control plane against a real three-member etcd cluster (Debian's etcd 3.4 on loopback, one etcd-ca, three
 * node roots each running its member through its own stand-in kubelet). The three nodes' CLIs run at the same
 * moment; a prober asks every member's health every 100 ms throughout and records each member's down intervals.
 * What the members serve is checked with openssl s_client and etcdctl; restarts are counted by the stand-ins.
 *
 * One cluster serves every test in order (each renews again and compares with its own "before").
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type CliResult, runCliAsync, writeConfig } from './helpers/cli.js';
import { type ClusterNode, type EtcdCluster, startEtcdCluster } from './helpers/etcd-cluster.js';
import { EtcdProber, type MemberRecord, downSeconds, overlaps } from './helpers/etcd-prober.js';
import { keyMatchesCert, verifyChain } from './helpers/openssl.js';
import { waitFor } from './helpers/ports.js';
import { etcdctlHealth, pemToDer, servedCertDer } from './helpers/served-cert.js';

const ETCD_ENTRIES = ['etcd-server', 'etcd-peer', 'etcd-healthcheck-client'];
const dir = mkdtempSync(join(tmpdir(), 'kcr-cluster-'));
let cluster: EtcdCluster;
let nodes: ClusterNode[];

beforeAll(async () => {
  cluster = await startEtcdCluster(dir);
  nodes = cluster.nodes;
}, 180_000);
afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function configure(restart: Record<string, string | boolean>): void {
  const keys = { verifyTimeout: '60s', lockTTL: '5s', lockWait: '3m', ...restart };
  for (const n of nodes) {
    writeConfig(n.root, ['restart:', ...Object.entries(keys).map(([k, v]) => `  ${k}: ${v}`), ''].join('\n'));
  }
}

const renewArgs = (n: ClusterNode): string[] => ['--root', n.root, '--log-format', 'json', 'renew', ...ETCD_ENTRIES];

function events(stderr: string): Array<Record<string, unknown>> {
  return stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function explain(results: CliResult[]): string {
  return results.map((r, i) => `--- cp-${i + 1}: exit ${r.code}\n${r.stderr.slice(-3000)}`).join('\n') +
    nodes.map((n) => `\n--- etcd ${n.name}\n${n.kubelet.log.slice(-1500)}`).join('');
}

const tls = (n: ClusterNode) => ({
  cert: join(n.pki, 'etcd/healthcheck-client.crt'), key: join(n.pki, 'etcd/healthcheck-client.key'), caFile: join(n.pki, 'etcd/ca.crt'),
});

/** Every member serves exactly its node's server.crt and peer.crt, verified against the etcd CA (fresh handshakes). */
async function expectServingFilesOnDisk(): Promise<void> {
  for (const n of nodes) {
    expect((await servedCertDer(n.ports.etcdClient, tls(n))).equals(pemToDer(join(n.pki, 'etcd/server.crt'))), `${n.name} client port`).toBe(true);
    expect((await servedCertDer(n.ports.etcdPeer, tls(n))).equals(pemToDer(join(n.pki, 'etcd/peer.crt'))), `${n.name} peer port`).toBe(true);
    const health = await etcdctlHealth(n.ports.etcdClient, tls(n).cert, tls(n).key, tls(n).caFile);
    expect(health.ok, `${n.name}: etcdctl with the renewed healthcheck client: ${health.output}`).toBe(true);
  }
}

function oldCerts(): Map<string, Buffer> {
  return new Map(nodes.flatMap((n) => [[`${n.name}/server`, pemToDer(join(n.pki, 'etcd/server.crt'))], [`${n.name}/peer`, pemToDer(join(n.pki, 'etcd/peer.crt'))]]));
}

function expectRenewed(before: Map<string, Buffer>): void {
  for (const n of nodes) {
    expect(pemToDer(join(n.pki, 'etcd/server.crt')).equals(before.get(`${n.name}/server`) as Buffer), `${n.name} server.crt renewed`).toBe(false);
    expect(pemToDer(join(n.pki, 'etcd/peer.crt')).equals(before.get(`${n.name}/peer`) as Buffer), `${n.name} peer.crt renewed`).toBe(false);
  }
}

async function probeDuring<T>(work: () => Promise<T>): Promise<{ result: T; members: MemberRecord[] }> {
  const prober = new EtcdProber(nodes.map((n) => ({ name: n.name, metricsPort: n.ports.etcdMetrics })));
  try {
    const result = await work();
    await new Promise((r) => setTimeout(r, 300));
    return { result, members: await prober.stop() };
  } catch (err) {
    await prober.stop();
    throw err;
  }
}

const startsNow = (): number[] => nodes.map((n) => n.kubelet.starts.length);

function lastJournal(n: ClusterNode): Record<string, unknown> {
  const backups = join(n.root, 'var/lib/kube-cert-renewer/backups');
  const last = readdirSync(backups).sort().pop() as string;
  return JSON.parse(readFileSync(join(backups, last, 'run.json'), 'utf8')) as Record<string, unknown>;
}

describe('HA control plane: reloads, quorum guard and cluster lock (real three-member etcd)', () => {
  it('auto: three runs at once renew every member with no etcd restart, and the members serve the new certificates', async () => {
    configure({});
    const before = oldCerts();
    const starts = startsNow();
    const pids = nodes.map((n) => n.kubelet.pid);
    const { result, members } = await probeDuring(() => Promise.all(nodes.map((n) => runCliAsync(renewArgs(n)))));
    expect(result.map((r) => r.code), explain(result)).toEqual([0, 0, 0]);
    expect(startsNow(), 'no etcd process was restarted').toEqual(starts);
    expect(nodes.map((n) => n.kubelet.pid)).toEqual(pids);
    expectRenewed(before);
    await expectServingFilesOnDisk();
    expect(members.map((m) => m.down), 'no member was ever down').toEqual([[], [], []]);
    for (const r of result) {
      const reload = events(r.stderr).find((e) => e.component === 'etcd' && e.action === 'reload');
      expect(String(reload?.why), r.stderr).toMatch(/every new TLS handshake/);
      expect(events(r.stderr).some((e) => /took the cluster restart lock/.test(String(e.msg))), 'a reload takes no lock').toBe(false);
    }
  });

  it('always: the members restart one at a time (down intervals never overlap), quorum kept, all verified', async () => {
    configure({ mode: 'always' });
    const before = oldCerts();
    const starts = startsNow();
    const { result, members } = await probeDuring(() => Promise.all(nodes.map((n) => runCliAsync(renewArgs(n)))));
    expect(result.map((r) => r.code), explain(result)).toEqual([0, 0, 0]);
    expect(startsNow(), 'each member restarted exactly once').toEqual(starts.map((s) => s + 1));
    expectRenewed(before);
    await expectServingFilesOnDisk();
    // Each member went down at most once (a restart quicker than one 100 ms probe can pass unseen; the process
    // start counts above prove each restart), and never two at the same time.
    expect(members.every((m) => m.down.length <= 1), JSON.stringify(members)).toBe(true);
    expect(members.some((m) => m.down.length === 1), JSON.stringify(members)).toBe(true);
    expect(overlaps(members), JSON.stringify(members)).toEqual([]);
    const waited = result.flatMap((r) => events(r.stderr)).filter((e) => /waiting for the cluster restart lock, held by cp-\d/.test(String(e.msg)));
    expect(waited.length, 'some node waited for another').toBeGreaterThanOrEqual(1);
    for (const n of nodes) expect(lastJournal(n)).toMatchObject({ phase: 'done', restarted: ['etcd'], verified: ['etcd'] });
    console.log(`always: seconds down per member ${JSON.stringify(downSeconds(members))}`);
  });

  it('negative control: with the guard and the lock off, the same runs do bounce members together', async () => {
    configure({ mode: 'always', quorumGuard: false, clusterLock: false });
    // Whether unguarded runs collide is a race (it happened in every run seen here); up to three rounds, so a loaded
    // machine that happens to spread the three starts out does not fail the control. The guarded test never retries.
    const seen: MemberRecord[][] = [];
    for (let round = 0; round < 3; round++) {
      const starts = startsNow();
      const { result, members } = await probeDuring(() => Promise.all(nodes.map((n) => runCliAsync(renewArgs(n)))));
      expect(result.map((r) => r.code), explain(result)).toEqual([0, 0, 0]);
      expect(startsNow()).toEqual(starts.map((s) => s + 1));
      for (const r of result) expect(r.stderr).not.toMatch(/cluster restart lock|quorum guard/);
      seen.push(members);
      if (overlaps(members).length > 0) break;
    }
    expect(overlaps(seen[seen.length - 1] as MemberRecord[]).length, JSON.stringify(seen)).toBeGreaterThan(0);
    console.log(`negative control: overlap seen in round ${seen.length}`);
  });

  it('the lock holder SIGKILLed mid-run: the others proceed once its lease expires', async () => {
    // a TTL longer than the others take to reach the lock, so they do find it held by the dead run
    configure({ mode: 'always', lockTTL: '15s' });
    const [n1, n2, n3] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    const holder = startCli(renewArgs(n1));
    await waitFor('cp-1 to take the cluster lock', () => /took the cluster restart lock/.test(holder.stderr()), 60_000, 20);
    holder.child.kill('SIGKILL');
    const killedAt = Date.now();
    await holder.done;
    const pid = holder.child.pid;
    const { result, members } = await probeDuring(() => Promise.all([n2, n3].map((n) => runCliAsync(renewArgs(n)))));
    expect(result.map((r) => r.code), explain(result)).toEqual([0, 0]);
    const all = result.flatMap((r) => events(r.stderr));
    const waiting = all.find((e) => /waiting for the cluster restart lock, held by cp-1/.test(String(e.msg)));
    expect(String(waiting?.msg), `a waiter names the dead holder\n${explain(result)}`).toMatch(new RegExp(`pid ${pid}`));
    const took = all.filter((e) => /took the cluster restart lock/.test(String(e.msg))).map((e) => Number(e.time));
    expect(Math.min(...took) - killedAt, 'the lock came free only when the lease (TTL 15 s) expired').toBeGreaterThan(5_000);
    expect(overlaps(members)).toEqual([]);
    // cp-1's next run finishes the restart its killed run owed
    const again = await runCliAsync(['--root', n1.root, '--log-format', 'json', 'run']);
    expect(again.code, again.stderr).toBe(0);
    await expectServingFilesOnDisk();
  });

  it('the lock held elsewhere (etcdctl lock) beyond restart.lockWait: no restart, exit 1 naming the wait, files restored', async () => {
    configure({ mode: 'always', lockWait: '4s' });
    const [n1, n2] = nodes as [ClusterNode, ClusterNode];
    const holder = spawn('/usr/bin/etcdctl', [
      '--endpoints', `https://127.0.0.1:${n2.ports.etcdClient}`, '--cacert', tls(n2).caFile, '--cert', tls(n2).cert, '--key', tls(n2).key,
      'lock', 'kube-cert-renewer/restart',
    ], { env: { PATH: '/usr/bin:/bin', ETCDCTL_API: '3' } });
    let out = '';
    holder.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('etcdctl to hold the lock', () => out.includes('kube-cert-renewer/restart/'), 30_000, 50);
      const before = new Map(['etcd/server.crt', 'etcd/peer.crt', 'etcd/server.key'].map((f) => [f, readFileSync(join(n1.pki, f))]));
      const starts = startsNow();
      const r = await runCliAsync(renewArgs(n1));
      expect(r.code, explain([r])).toBe(1);
      expect(r.stderr).toMatch(/waiting for the cluster restart lock, held by an unknown holder \(lease \d+\)/);
      expect(r.stderr).toMatch(/etcd was not restarted: the cluster restart lock is held by an unknown holder .*gave up after [45]s \(restart.lockWait\)/);
      expect(startsNow()).toEqual(starts);
      for (const [f, b] of before) expect(readFileSync(join(n1.pki, f)).equals(b), `${f} restored`).toBe(true);
      expect(lastJournal(n1).phase).toBe('rolled-back');
    } finally {
      holder.kill('SIGTERM');
    }
  });

  it('one member stopped: a node that needs an etcd restart leaves its member alone, exits 1 naming it, files consistent', async () => {
    configure({ mode: 'always', quorumWait: '3s' });
    const [n1, , n3] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    await n3.kubelet.crashEtcd();
    const starts = startsNow();
    const r = await runCliAsync(renewArgs(n1));
    expect(r.code, explain([r])).toBe(1);
    expect(r.stderr).toMatch(/quorum guard: not restarting etcd member cp-1: .*unhealthy: cp-3 \(https:\/\/127\.0\.0\.1:\d+/);
    expect(startsNow(), 'no member was restarted').toEqual(starts);
    for (const rel of ['etcd/server', 'etcd/peer', 'etcd/healthcheck-client']) {
      expect(keyMatchesCert(join(n1.pki, `${rel}.crt`), join(n1.pki, `${rel}.key`)), rel).toBe(true);
      expect(verifyChain(join(n1.pki, 'etcd/ca.crt'), join(n1.pki, `${rel}.crt`)).ok, rel).toBe(true);
    }
    expect(lastJournal(n1).phase).toBe('rolled-back');
  });
});

function startCli(args: string[]): { child: ChildProcess; stderr: () => string; done: Promise<void> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: '' } });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout?.resume();
  const done = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return { child, stderr: () => err, done };
}
