/**
 * The cluster-wide restart lock: the control-plane nodes take turns restarting etcd or kube-apiserver through etcd's
 * own v3 lock, held under a lease kept alive while the lock is held. A holder that dies stops the keep-alives and
 * its lease expires after its TTL, which releases the lock. Who holds it is written under the same lease
 * (`<name>.holders/<lease>`: node, run, pid), so a waiting node can say for whom it waits.
 */
import { type EtcdClient, EtcdRequestError } from './etcd-client.js';

export interface LockHolder {
  node: string;
  runId?: string;
  pid: number;
  command: string;
}

export interface ClusterLockOptions {
  client: EtcdClient;
  name: string;
  ttlSeconds: number;
  waitMs: number;
  holder: LockHolder;
  /** Called when the node starts waiting and whenever the holder it waits for changes. */
  onWaiting: (holder: string) => void | Promise<void>;
  pollMs?: number;
}

export interface ClusterLock {
  key: string;
  lease: string;
  /** False once a keep-alive found the lease gone. */
  readonly alive: boolean;
  release(): Promise<void>;
}

export class ClusterLockTimeout extends Error {
  constructor(readonly holder: string, waitedMs: number) {
    super(`the cluster restart lock is held by ${holder}; gave up after ${Math.round(waitedMs / 1000)}s`);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function describeHolder(h: Partial<LockHolder> | undefined, lease: string): string {
  if (!h?.node) return `an unknown holder (lease ${lease})`;
  return `${h.node} (${[h.command, h.runId ? `run ${h.runId}` : undefined, h.pid ? `pid ${h.pid}` : undefined].filter(Boolean).join(', ')})`;
}

const holdersPrefix = (name: string): string => `${name}.holders/`;

/** Who holds the lock now: the oldest key under the lock's prefix, and the holder record of its lease. */
export async function currentHolder(client: EtcdClient, name: string): Promise<{ lease: string; text: string } | undefined> {
  const [owner] = await client.rangePrefix(`${name}/`);
  if (!owner) return undefined;
  const hex = owner.key.slice(name.length + 1);
  const lease = /^[0-9a-f]+$/.test(hex) ? BigInt(`0x${hex}`).toString() : owner.lease;
  const [record] = await client.rangePrefix(`${holdersPrefix(name)}${lease}`);
  let parsed: Partial<LockHolder> | undefined;
  try {
    parsed = record ? (JSON.parse(record.value) as Partial<LockHolder>) : undefined;
  } catch {
    parsed = undefined;
  }
  return { lease, text: describeHolder(parsed, lease) };
}

function keepAlive(client: EtcdClient, lease: string, ttlSeconds: number, state: { alive: boolean }): () => void {
  const timer = setInterval(() => {
    client.leaseKeepAlive(lease).then((ok) => {
      if (!ok) state.alive = false;
    }, () => undefined); // a missed keep-alive is retried at the next tick, well within the TTL
  }, Math.max(500, (ttlSeconds * 1000) / 3));
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Wait for the lock until aborted (→ undefined). A member being bounced or a leader election fails the request
 * (connection refused, "leader changed"): ask again, through whichever member answers; the waiter key under our
 * lease stays in line meanwhile.
 */
async function waitForLock(o: ClusterLockOptions, lease: string, signal: AbortSignal, errors: string[]): Promise<string | undefined> {
  for (;;) {
    try {
      return await o.client.lock(o.name, lease, signal);
    } catch (err) {
      if (signal.aborted) return undefined;
      if (!(err instanceof EtcdRequestError)) throw err;
      errors.push(err.message);
      await sleep(500);
    }
  }
}

/** A few tries of a short request that a leader election can fail. */
async function retried<T>(what: () => Promise<T>, tries = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await what();
    } catch (err) {
      if (i >= tries || !(err instanceof EtcdRequestError)) throw err;
      await sleep(1_000);
    }
  }
}

async function watchHolder(o: ClusterLockOptions, ownLease: string, done: () => boolean): Promise<string> {
  let last = '';
  while (!done()) {
    const holder = await currentHolder(o.client, o.name).catch(() => undefined);
    if (holder && holder.lease !== ownLease && holder.text !== last && !done()) {
      last = holder.text;
      await o.onWaiting(holder.text);
    }
    await sleep(o.pollMs ?? 1_000);
  }
  return last;
}

export async function acquireClusterLock(o: ClusterLockOptions): Promise<ClusterLock> {
  const started = Date.now();
  const lease = await retried(() => o.client.leaseGrant(o.ttlSeconds));
  const state = { alive: true };
  const stopKeepAlive = keepAlive(o.client, lease, o.ttlSeconds, state);
  const revoke = async (): Promise<void> => {
    stopKeepAlive();
    await o.client.leaseRevoke(lease).catch(() => undefined); // unreachable: the lease expires by itself
  };
  try {
    await retried(() => o.client.put(`${holdersPrefix(o.name)}${lease}`, JSON.stringify(o.holder), lease));
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), o.waitMs);
    let settled = false;
    const watcher = watchHolder(o, lease, () => settled);
    const errors: string[] = [];
    const key = await waitForLock(o, lease, abort.signal, errors).finally(() => {
      settled = true;
      clearTimeout(timer);
    });
    const holder = await watcher;
    if (key === undefined) {
      await revoke();
      const now = await currentHolder(o.client, o.name).catch(() => undefined);
      const last = errors.length ? `nobody visible (the lock request failed ${errors.length} times, last: ${errors[errors.length - 1]})` : 'another node';
      throw new ClusterLockTimeout(holder || now?.text || last, Date.now() - started);
    }
    return {
      key, lease,
      get alive() {
        return state.alive;
      },
      async release() {
        await o.client.unlock(key).catch(() => undefined);
        await revoke();
      },
    };
  } catch (err) {
    await revoke();
    throw err;
  }
}
