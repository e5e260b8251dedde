// A test-only stand-in for the kubelet, for etcd only: it runs a REAL etcd (Debian's /usr/bin/etcd) from the
// command of <root>/etc/kubernetes/manifests/etcd.yaml, watches that manifest, and when its content changes it kills
// etcd and starts it again from the new manifest, as the kubelet recreates a static pod whose hash changed.
//
// Independent of the product: it never imports product code. Host paths in the command (/etc/kubernetes/...) are
// rewritten to live under the root; --data-dir becomes a temp dir kept across restarts (the hostPath volume).
// mode 'never-restart' sees the changes but ignores them: the failure path of a restart.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yaml from 'js-yaml';

export const ETCD_BIN = process.env['ETCD_BIN'] ?? '/usr/bin/etcd';

export interface StandinOptions {
  root: string;
  /** 'restart' (default) behaves like the kubelet; 'never-restart' leaves etcd running as it was */
  mode?: 'restart' | 'never-restart';
  /** how often the manifest is read; default 100 ms */
  pollMs?: number;
  /** the manifest must be unchanged this long before acting on a change; default 300 ms */
  debounceMs?: number;
  /** how long etcd may take to answer its health URL after a start; default 20 s */
  readyTimeoutMs?: number;
}

export interface EtcdStart {
  pid: number;
  /** Date.now() when the process was spawned */
  startedAt: number;
  /** the manifest text it was started from */
  manifest: string;
  argv: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// every etcd a stand-in started, so even a crashed test cannot leave one behind
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      // gone
    }
  }
});

/** The container's command + args, as the kubelet would run them (command then args). */
function containerArgv(manifestText: string): string[] {
  const pod = yaml.load(manifestText) as { spec?: { containers?: Array<{ command?: unknown[]; args?: unknown[] }> } };
  const c = pod?.spec?.containers?.[0];
  if (!c) throw new Error('etcd.yaml: no container');
  return [...(c.command ?? []), ...(c.args ?? [])].map(String);
}

export class StandinKubelet {
  readonly starts: EtcdStart[] = [];
  /** manifest changes seen in never-restart mode */
  ignoredChanges = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private stopped = false;
  private lastText: string;
  private pendingText: string | undefined;
  private pendingSince = 0;
  private output = '';
  private readonly dataDir: string;
  private readonly manifestPath: string;
  private readonly mode: 'restart' | 'never-restart';
  private readonly pollMs: number;
  private readonly debounceMs: number;
  private readonly readyTimeoutMs: number;

  private constructor(private readonly root: string, options: StandinOptions) {
    this.manifestPath = join(root, 'etc/kubernetes/manifests/etcd.yaml');
    this.dataDir = mkdtempSync(join(tmpdir(), 'kcr-etcd-data-'));
    this.mode = options.mode ?? 'restart';
    this.pollMs = options.pollMs ?? 100;
    this.debounceMs = options.debounceMs ?? 300;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
    this.lastText = readFileSync(this.manifestPath, 'utf8');
  }

  /** Start etcd from the manifest, wait until it is healthy, then watch the manifest. */
  static async start(options: StandinOptions): Promise<StandinKubelet> {
    const k = new StandinKubelet(options.root, options);
    try {
      await k.launch(k.lastText);
    } catch (err) {
      await k.stop();
      throw err;
    }
    k.timer = setInterval(() => void k.poll(), k.pollMs);
    return k;
  }

  get restarts(): number {
    return Math.max(0, this.starts.length - 1);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** etcd's own output (last 64 KiB), for failure messages */
  get log(): string {
    return this.output;
  }

  /** The argv the kubelet would run, with host paths moved under the root and the data dir made private. */
  hostArgv(manifestText: string): string[] {
    const argv = containerArgv(manifestText);
    if ((argv[0] ?? '').split('/').pop() !== 'etcd') throw new Error(`etcd.yaml runs ${argv[0]}, not etcd`);
    return [
      ETCD_BIN,
      ...argv.slice(1).map((a) => {
        const m = /^(--[^=]+)=(.*)$/.exec(a);
        if (!m) return a;
        const [, flag, value] = m as unknown as [string, string, string];
        if (flag === '--data-dir') return `${flag}=${this.dataDir}`;
        if (value.startsWith('/etc/kubernetes/')) return `${flag}=${join(this.root, value)}`;
        return a;
      }),
    ];
  }

  private metricsUrl(argv: string[]): string {
    const flag = argv.find((a) => a.startsWith('--listen-metrics-urls='));
    const url = flag?.slice('--listen-metrics-urls='.length).split(',')[0];
    if (!url?.startsWith('http://')) throw new Error('etcd.yaml has no plain-HTTP --listen-metrics-urls to probe');
    return `${url}/health`;
  }

  private async launch(manifestText: string): Promise<void> {
    const argv = this.hostArgv(manifestText);
    // a clean environment: ETCD_* variables would be read as flags
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: this.dataDir };
    const child = spawn(argv[0] as string, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    this.child = child;
    const collect = (d: Buffer): void => {
      this.output = (this.output + d.toString('utf8')).slice(-65_536);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        live.delete(child);
        resolve();
      });
      child.once('error', (err) => {
        collect(Buffer.from(`spawn failed: ${err.message}\n`));
        live.delete(child);
        resolve();
      });
    });
    this.starts.push({ pid: child.pid ?? -1, startedAt: Date.now(), manifest: manifestText, argv });
    await this.waitHealthy(this.metricsUrl(argv), child);
  }

  private async waitHealthy(url: string, child: ChildProcess): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`etcd exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n${this.output.slice(-4000)}`);
      }
      const body = await new Promise<string>((resolve) => {
        const req = request(url, { timeout: 1_000 }, (res) => {
          let b = '';
          res.on('data', (d: Buffer) => (b += d.toString()));
          res.on('end', () => resolve(res.statusCode === 200 ? b : ''));
        });
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(''));
        req.end();
      });
      if (/"health"\s*:\s*"true"/.test(body)) return;
      if (Date.now() > deadline) throw new Error(`etcd not healthy at ${url} within ${this.readyTimeoutMs} ms:\n${this.output.slice(-4000)}`);
      await sleep(100);
    }
  }

  /** SIGTERM, then SIGKILL after a grace period, as the kubelet stops a container. */
  private async kill(graceMs = 5_000): Promise<void> {
    const child = this.child;
    if (!child || !this.exited) return;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(t);
    }
    this.child = undefined;
  }

  private async poll(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      let text: string;
      try {
        text = readFileSync(this.manifestPath, 'utf8');
      } catch {
        return; // being replaced; look again next time
      }
      if (text === this.lastText) {
        this.pendingText = undefined;
        return;
      }
      if (text !== this.pendingText) {
        this.pendingText = text;
        this.pendingSince = Date.now();
        return;
      }
      if (Date.now() - this.pendingSince < this.debounceMs) return;
      this.lastText = text;
      this.pendingText = undefined;
      if (this.mode === 'never-restart') {
        this.ignoredChanges++;
        return;
      }
      await this.kill();
      if (this.stopped) return;
      try {
        await this.launch(text);
      } catch (err) {
        this.output += `\n[stand-in] restart failed: ${(err as Error).message}\n`;
      }
    } finally {
      this.busy = false;
    }
  }

  /** Kill etcd as a crash would (SIGKILL) and leave it down until the manifest changes, as a crash-looping pod. */
  async crashEtcd(): Promise<void> {
    while (this.busy) await sleep(20);
    this.busy = true;
    try {
      await this.kill(0);
    } finally {
      this.busy = false;
    }
  }

  /** Resolve once etcd has been started `n` times in all (first start included), or throw after timeoutMs. */
  async waitForStarts(n: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.starts.length < n || this.busy) {
      if (Date.now() > deadline) throw new Error(`etcd started ${this.starts.length} times, wanted ${n}:\n${this.output.slice(-4000)}`);
      await sleep(50);
    }
  }

  /** Stop watching, kill etcd (SIGKILL after 2 s), remove the data dir. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    while (this.busy) await sleep(20);
    await this.kill(2_000);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
