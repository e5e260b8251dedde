/**
 * A small etcd v3 client over etcd's JSON gRPC gateway (https://<client-url>/v3/..., POST JSON, base64 keys), with a
 * client certificate and the etcd CA: member list, per-member health, leases, the v3 lock, and plain key reads and
 * writes. It talks to the first endpoint that answers and keeps to it; a refused or broken connection moves on to the
 * next one, so a member being bounced does not break a lease kept alive through it.
 */
import type * as Https from 'node:https';

export interface EtcdTls {
  ca: string;
  cert: string;
  key: string;
}

export interface EtcdMember {
  id: string;
  name: string;
  clientURLs: string[];
  peerURLs: string[];
}

export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  lease: string;
}

export class EtcdRequestError extends Error {
  constructor(message: string, readonly connection: boolean) {
    super(message);
  }
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: unknown): string => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '');

/** The key just after every key starting with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) + 1;
  return bytes.toString('utf8');
}

export class EtcdClient {
  private endpoints: string[];

  constructor(endpoints: string[], private readonly tls: EtcdTls, private readonly timeoutMs = 5_000) {
    this.endpoints = [...new Set(endpoints)];
    if (this.endpoints.length === 0) throw new Error('etcd client: no endpoint');
  }

  get endpointList(): readonly string[] {
    return this.endpoints;
  }

  /** Add endpoints (e.g. every member's client URLs) after the ones known. */
  addEndpoints(urls: string[]): void {
    this.endpoints = [...new Set([...this.endpoints, ...urls])];
  }

  /** One HTTPS request to one URL; rejects with EtcdRequestError. */
  call(url: string, method: 'GET' | 'POST', body: unknown, timeoutMs = this.timeoutMs, signal?: AbortSignal): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      // node:https is loaded on first use: commands that talk to no etcd never pay for it.
      const req = (require('node:https') as typeof Https).request(url, {
        method, ca: this.tls.ca, cert: this.tls.cert, key: this.tls.key, agent: false, timeout: timeoutMs,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
        ...(signal ? { signal } : {}),
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (text.length < 1_000_000) text += d;
        });
        res.on('error', (err) => reject(new EtcdRequestError(`${url}: ${err.message}`, true)));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          if (res.statusCode !== 200) {
            const message = (json as { message?: string; error?: string } | undefined)?.message ?? text.trim().slice(0, 200);
            reject(new EtcdRequestError(`${url}: HTTP ${res.statusCode}: ${message}`, false));
          } else if (json === undefined) reject(new EtcdRequestError(`${url}: not JSON: ${text.slice(0, 200)}`, false));
          else resolve(json);
        });
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err: NodeJS.ErrnoException) => reject(new EtcdRequestError(`${url}: ${err.code ?? err.message}`, true)));
      req.end(payload);
    });
  }

  /** POST to the first endpoint that answers; connection failures move on to the next endpoint. */
  async post(path: string, body: unknown, timeoutMs = this.timeoutMs, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const errors: string[] = [];
    for (const base of [...this.endpoints]) {
      try {
        const r = (await this.call(`${base.replace(/\/$/, '')}${path}`, 'POST', body, timeoutMs, signal)) as Record<string, unknown>;
        // keep to the endpoint that answered
        this.endpoints = [base, ...this.endpoints.filter((e) => e !== base)];
        return r;
      } catch (err) {
        if (signal?.aborted || !(err instanceof EtcdRequestError) || !err.connection) throw err;
        errors.push(err.message);
      }
    }
    throw new EtcdRequestError(`no etcd endpoint answered: ${errors.join('; ')}`, true);
  }

  async memberList(): Promise<EtcdMember[]> {
    const r = await this.post('/v3/cluster/member/list', {});
    const members = (r.members as Array<Record<string, unknown>> | undefined) ?? [];
    return members.map((m) => ({
      id: String(m.ID ?? ''),
      name: String(m.name ?? ''),
      clientURLs: ((m.clientURLs as string[] | undefined) ?? []).map(String),
      peerURLs: ((m.peerURLs as string[] | undefined) ?? []).map(String),
    }));
  }

  /** GET <clientURL>/health on one member: healthy, or why not. */
  async memberHealth(clientUrl: string, timeoutMs = 3_000): Promise<{ healthy: true } | { healthy: false; why: string }> {
    try {
      const r = (await this.call(`${clientUrl.replace(/\/$/, '')}/health`, 'GET', undefined, timeoutMs)) as { health?: unknown };
      return String(r.health) === 'true' ? { healthy: true } : { healthy: false, why: `health ${JSON.stringify(r.health)}` };
    } catch (err) {
      return { healthy: false, why: (err as Error).message };
    }
  }

  async leaseGrant(ttlSeconds: number): Promise<string> {
    const r = await this.post('/v3/lease/grant', { TTL: String(ttlSeconds) });
    if (!r.ID) throw new EtcdRequestError(`lease grant: no lease ID (${String(r.error ?? '')})`, false);
    return String(r.ID);
  }

  /** Refresh a lease once; false when it no longer exists (expired or revoked). */
  async leaseKeepAlive(id: string): Promise<boolean> {
    const r = await this.post('/v3/lease/keepalive', { ID: id });
    const result = (r.result as { TTL?: string } | undefined) ?? {};
    return Number(result.TTL ?? 0) > 0;
  }

  async leaseRevoke(id: string): Promise<void> {
    await this.post('/v3/lease/revoke', { ID: id });
  }

  /** Wait for the v3 lock `name` under `lease`; resolves with the owner key. Abort through `signal`. */
  async lock(name: string, lease: string, signal: AbortSignal): Promise<string> {
    const r = await this.post('/v3/lock/lock', { name: b64(name), lease }, 24 * 3_600_000, signal);
    return unb64(r.key);
  }

  async unlock(key: string): Promise<void> {
    await this.post('/v3/lock/unlock', { key: b64(key) });
  }

  async put(key: string, value: string, lease?: string): Promise<void> {
    await this.post('/v3/kv/put', { key: b64(key), value: b64(value), ...(lease ? { lease } : {}) });
  }

  /** Every key starting with `prefix`, oldest first (by create revision). */
  async rangePrefix(prefix: string): Promise<KeyValue[]> {
    const r = await this.post('/v3/kv/range', {
      key: b64(prefix), range_end: b64(prefixEnd(prefix)), sort_target: 'CREATE', sort_order: 'ASCEND',
    });
    const kvs = (r.kvs as Array<Record<string, unknown>> | undefined) ?? [];
    return kvs.map((kv) => ({
      key: unb64(kv.key), value: unb64(kv.value), createRevision: Number(kv.create_revision ?? 0), lease: String(kv.lease ?? '0'),
    }));
  }
}
