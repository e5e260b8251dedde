// Watches etcd members from outside: every 100 ms it asks each member's plain-HTTP /health (the metrics listener
// kubeadm's own probes use) and records, per member, the intervals its port refused or dropped the connection (down:
// its process was not serving), the samples where it answered anything but {"health":"true"} (unhealthy: e.g. no
// leader) and those where it took over 2 s to answer (slow: etcd's health check waits on a read through raft,
// which stalls while leadership moves; the process is serving).
// Independent of the product.
import { request } from 'node:http';

export interface Interval {
  from: number;
  to: number;
}

export interface MemberRecord {
  name: string;
  down: Interval[];
  unhealthySamples: number;
  slowSamples: number;
  samples: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function ask(port: number, timeoutMs: number): Promise<'healthy' | 'unhealthy' | 'slow' | 'down'> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && /"health"\s*:\s*"true"/.test(body) ? 'healthy' : 'unhealthy'));
      res.on('error', () => resolve('down'));
    });
    req.on('timeout', () => {
      resolve('slow');
      req.destroy();
    });
    req.on('error', () => resolve('down'));
    req.end();
  });
}

export class EtcdProber {
  readonly members: MemberRecord[];
  private running = true;
  private readonly loops: Array<Promise<void>>;

  constructor(members: Array<{ name: string; metricsPort: number }>, everyMs = 100) {
    this.members = members.map((m) => ({ name: m.name, down: [], unhealthySamples: 0, slowSamples: 0, samples: 0 }));
    this.loops = members.map((m, i) => this.loop(m.metricsPort, this.members[i] as MemberRecord, everyMs));
  }

  private async loop(port: number, rec: MemberRecord, everyMs: number): Promise<void> {
    let downSince: number | undefined;
    while (this.running) {
      const at = Date.now();
      const r = await ask(port, 2_000);
      rec.samples++;
      if (r === 'down') downSince ??= at;
      else {
        if (downSince !== undefined) rec.down.push({ from: downSince, to: at });
        downSince = undefined;
        if (r === 'unhealthy') rec.unhealthySamples++;
        if (r === 'slow') rec.slowSamples++;
      }
      await sleep(Math.max(0, everyMs - (Date.now() - at)));
    }
    if (downSince !== undefined) rec.down.push({ from: downSince, to: Date.now() });
  }

  async stop(): Promise<MemberRecord[]> {
    this.running = false;
    await Promise.all(this.loops);
    return this.members;
  }
}

/** Pairs of members whose down intervals overlapped (for three members: the moments quorum was lost). */
export function overlaps(members: MemberRecord[]): Array<{ a: string; b: string; from: number; to: number }> {
  const out: Array<{ a: string; b: string; from: number; to: number }> = [];
  for (let i = 0; i < members.length; i++) {
    for (let j = i + 1; j < members.length; j++) {
      const a = members[i] as MemberRecord;
      const b = members[j] as MemberRecord;
      for (const x of a.down) {
        for (const y of b.down) {
          const from = Math.max(x.from, y.from);
          const to = Math.min(x.to, y.to);
          if (from < to) out.push({ a: a.name, b: b.name, from, to });
        }
      }
    }
  }
  return out;
}

/** Total seconds each member was down. */
export function downSeconds(members: MemberRecord[]): Record<string, number> {
  return Object.fromEntries(members.map((m) => [m.name, m.down.reduce((s, d) => s + (d.to - d.from), 0) / 1000]));
}
