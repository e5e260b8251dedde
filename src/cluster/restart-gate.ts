/**
 * The gate in front of every restart of etcd or kube-apiserver on an HA control plane:
 * - the cluster restart lock, taken before the first such restart of a run (rollback restarts included) and held
 *   until the last of them is verified or rolled back, so the control-plane nodes take turns;
 * - the quorum guard, right before the local etcd member is bounced.
 * It reaches the cluster through the local etcd member (stacked etcd, from etcd.yaml) with the healthcheck-client
 * certificate (or apiserver-etcd-client) and the etcd CA, then through every member's client URLs. With external
 * etcd (no etcd.yaml) both are skipped, with a log line: the external etcd is not this node's to bounce, and its
 * client URLs are not probed. With restart.clusterLock and restart.quorumGuard false nothing here runs.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Component } from '../catalog.js';
import { CLUSTER_CRITICAL } from '../components.js';
import type { Config } from '../config/config.js';
import { type HostPaths, underRoot } from '../host/paths.js';
import { readBoundedText } from '../host/read.js';
import type { Logger } from '../ops/log.js';
import type { Notifier } from '../ops/notify.js';
import { flagValue, manifestArgv, parseManifest } from '../restart/manifest.js';
import { EtcdClient, type EtcdTls } from './etcd-client.js';
import { type ClusterLock, ClusterLockTimeout, acquireClusterLock } from './lock.js';
import { waitForQuorum } from './quorum.js';

export const LOCK_NAME = 'kube-cert-renewer/restart';

export interface GateDeps {
  paths: HostPaths;
  config: Config;
  log: Logger;
  notify: Notifier;
  command: string;
  runId?: string;
}

export type GateResult = { ok: true } | { ok: false; reason: string };

interface LocalEtcd {
  member: string;
  urls: string[];
  tls: EtcdTls;
}

function readPem(paths: HostPaths, rel: string): string | undefined {
  try {
    return readBoundedText(join(paths.pki, rel), 'pem');
  } catch {
    return undefined;
  }
}

/** The local etcd member from etcd.yaml, with the credentials to talk to it; undefined with external etcd. */
export function localEtcd(paths: HostPaths): LocalEtcd | undefined {
  const file = join(paths.manifests, 'etcd.yaml');
  let text: string;
  try {
    text = readBoundedText(file, 'manifest');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // no etcd.yaml: external etcd
    throw err;
  }
  const argv = manifestArgv(parseManifest(text, file));
  const urls = (flagValue(argv, 'listen-client-urls') ?? flagValue(argv, 'advertise-client-urls') ?? 'https://127.0.0.1:2379')
    .split(',').map((u) => u.trim()).filter(Boolean)
    .sort((a, b) => Number(!/\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(a)) - Number(!/\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(b)));
  const caFlag = flagValue(argv, 'trusted-ca-file');
  let ca: string | undefined;
  try {
    ca = caFlag ? readBoundedText(underRoot(paths.root, caFlag), 'pem') : readPem(paths, 'etcd/ca.crt');
  } catch {
    ca = undefined;
  }
  const pair = [['etcd/healthcheck-client.crt', 'etcd/healthcheck-client.key'], ['apiserver-etcd-client.crt', 'apiserver-etcd-client.key']]
    .map(([c, k]) => ({ cert: readPem(paths, c as string), key: readPem(paths, k as string) }))
    .find((p) => p.cert && p.key);
  if (!ca || !pair) throw new Error(`${file}: no etcd CA or client certificate to reach the cluster with (looked in ${paths.pki})`);
  return { member: flagValue(argv, 'name') ?? hostname(), urls, tls: { ca, cert: pair.cert as string, key: pair.key as string } };
}

export class RestartGate {
  private lock: ClusterLock | undefined;
  private client: EtcdClient | undefined;
  private etcd: LocalEtcd | undefined | null = null;
  private saidSkip = false;
  /** Set once no etcd endpoint answered: later steps of the run do not wait on it again. */
  private unreachable: string | undefined;

  constructor(private readonly deps: GateDeps) {}

  get holdsLock(): boolean {
    return this.lock !== undefined;
  }

  private local(): LocalEtcd | undefined {
    if (this.etcd === null) this.etcd = localEtcd(this.deps.paths);
    return this.etcd;
  }

  private async connect(local: LocalEtcd): Promise<EtcdClient> {
    if (this.client) return this.client;
    if (this.unreachable) throw new Error(this.unreachable);
    const client = new EtcdClient(local.urls, local.tls);
    try {
      // every member's client URLs, so a lease outlives the bounce of the local member
      client.addEndpoints((await client.memberList()).flatMap((m) => m.clientURLs));
    } catch (err) {
      this.unreachable = (err as Error).message;
      throw err;
    }
    this.client = client;
    return client;
  }

  /** Call before bouncing `component` (never for a reload). */
  async beforeRestart(component: Component): Promise<GateResult> {
    const c = this.deps.config.restart;
    if (!CLUSTER_CRITICAL.has(component) || (!c.clusterLock && !(c.quorumGuard && component === 'etcd'))) return { ok: true };
    let local: LocalEtcd | undefined;
    try {
      local = this.local();
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
    if (!local) {
      if (!this.saidSkip) this.deps.log.info('external etcd: no cluster restart lock and no quorum guard (the etcd members are not this node\'s to restart)');
      this.saidSkip = true;
      return { ok: true };
    }
    if (this.lock && !this.lock.alive) {
      this.deps.log.warn({ lock: LOCK_NAME }, 'the cluster restart lock\'s lease expired while held (etcd unreachable for longer than restart.lockTTL); taking the lock again');
      this.lock = undefined;
    }
    if (c.clusterLock && !this.lock) {
      const r = await this.takeLock(local, component);
      if (!r.ok) return r;
    }
    if (component === 'etcd' && c.quorumGuard) return this.guardQuorum(local);
    return { ok: true };
  }

  private async takeLock(local: LocalEtcd, component: Component): Promise<GateResult> {
    const { log, notify, config } = this.deps;
    let client: EtcdClient;
    try {
      client = await this.connect(local);
    } catch (err) {
      // Nothing answers: the cluster cannot be coordinated, and a local etcd that is down is what a restart repairs.
      log.warn({ component, error: (err as Error).message }, `cluster restart lock: etcd does not answer (${(err as Error).message}); restarting ${component} without the lock`);
      return { ok: true };
    }
    await notify('waiting for the cluster restart lock');
    try {
      this.lock = await acquireClusterLock({
        client, name: LOCK_NAME, ttlSeconds: Math.round(config.restart.lockTTL / 1000), waitMs: config.restart.lockWait,
        holder: { node: local.member, ...(this.deps.runId ? { runId: this.deps.runId } : {}), pid: process.pid, command: this.deps.command },
        onWaiting: async (holder) => {
          log.warn({ holder, lock: LOCK_NAME }, `waiting for the cluster restart lock, held by ${holder}`);
          await notify(`waiting for the cluster restart lock, held by ${holder}`);
        },
      });
    } catch (err) {
      if (err instanceof ClusterLockTimeout) return { ok: false, reason: `${err.message} (restart.lockWait)` };
      return { ok: false, reason: `cluster restart lock: ${(err as Error).message}` };
    }
    log.info({ lock: LOCK_NAME, lease: this.lock.lease, node: local.member }, `took the cluster restart lock (${LOCK_NAME}) for ${component}`);
    return { ok: true };
  }

  private async guardQuorum(local: LocalEtcd): Promise<GateResult> {
    const { log, notify, config } = this.deps;
    let client: EtcdClient;
    try {
      client = await this.connect(local);
    } catch (err) {
      log.warn({ error: (err as Error).message }, `quorum guard: the local etcd member ${local.member} does not answer; restarting it costs no healthy member`);
      return { ok: true };
    }
    const verdict = await waitForQuorum(client, local.member, config.restart.quorumWait, async (why) => {
      log.warn({ member: local.member }, `quorum guard: waiting before restarting etcd: ${why}`);
      await notify(`waiting for etcd quorum: ${why}`);
    });
    if (!verdict.ok) {
      return { ok: false, reason: `quorum guard: not restarting etcd member ${local.member}: ${verdict.why} (waited ${Math.round(config.restart.quorumWait / 1000)}s, restart.quorumWait)` };
    }
    log.info({ member: local.member }, `quorum guard: ${verdict.why}`);
    return { ok: true };
  }

  /** Release the lock once no restart of etcd or kube-apiserver is left among `remaining`. */
  async releaseUnlessNeeded(remaining: Component[]): Promise<void> {
    if (remaining.some((c) => CLUSTER_CRITICAL.has(c))) return;
    await this.release();
  }

  async release(): Promise<void> {
    const lock = this.lock;
    this.lock = undefined;
    if (!lock) return;
    await lock.release();
    this.deps.log.info({ lock: LOCK_NAME }, 'released the cluster restart lock');
  }
}

