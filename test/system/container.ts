// A booted systemd container: systemd-nspawn -b on a directory, in the background, with its own network namespace
// (only a loopback device, so its etcd and endpoints can use their default ports and never meet the host's).
// Commands run inside with nsenter. The container is powered off on teardown, killed when this process exits or is
// interrupted, and, should this process be killed outright (vitest kills a timed-out worker with SIGKILL), nspawn
// gets SIGTERM from the kernel (setpriv --pdeathsig) and powers the container off itself.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { processStartTime } from '../../src/host/proc.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const startTime = (pid: number): string | undefined => processStartTime(pid);
const alive = new Set<Container>();

process.once('exit', () => {
  for (const c of alive) c.killNow();
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    for (const c of alive) c.killNow();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}

export class Container {
  private exited = false;
  private initStart: string | undefined;

  private constructor(
    readonly dir: string,
    readonly machine: string,
    private readonly nspawn: ChildProcess,
    readonly logFile: string,
    /** PID (in our PID namespace) of the container's init. */
    public pid = 0,
    private readonly cgroups: string[] = [],
  ) {
    nspawn.once('exit', () => {
      this.exited = true;
    });
  }

  /** Boots `dir` and waits until its systemd reports the boot finished. */
  static async boot(dir: string, logFile: string, timeoutMs = 90_000): Promise<Container> {
    // named after its tree (kcr-system-XXXXXX), unique, so rootfs.ts can clean up after a run that was killed
    const machine = basename(dirname(dir));
    const out = openSync(logFile, 'a');
    // nspawn without a host systemd (--keep-unit) puts the container in <its own cgroup>/payload: every container
    // started from the same cgroup would share one, and their systemds would break each other's units (seen as
    // basic units failing with 219/CGROUP when containers boot side by side). So nspawn starts in a cgroup of its own.
    const cgroups = createCgroups(machine);
    const child = spawn('sh', [
      '-c', 'for f in $1; do echo $$ > "$f"; done; shift; exec "$@"', 'sh', cgroups.map((g) => join(g, 'cgroup.procs')).join(' '),
      'setpriv', '--pdeathsig', 'SIGTERM', '--',
      'systemd-nspawn', '--quiet', '--register=no', '--keep-unit', `--machine=${machine}`, '--private-network',
      '--console=read-only', '-D', dir, '-b',
    ], { stdio: ['ignore', out, out] });
    closeSync(out);
    const c = new Container(dir, machine, child, logFile, 0, cgroups);
    alive.add(c);
    try {
      c.pid = await c.waitForInit(timeoutMs);
      const state = await c.exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs });
      if (!['running', 'degraded'].includes(state.stdout.trim())) {
        throw new Error(`the container's systemd says ${JSON.stringify(state.stdout.trim())} after booting`);
      }
      if (state.stdout.trim() === 'degraded') {
        const failed = await c.exec(['systemctl', '--failed', '--no-legend', '--plain']);
        const units = failed.stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
        const journal = await c.exec(['journalctl', '-b', '--no-pager', '-n', '40', ...units.flatMap((u) => ['-u', u])]);
        throw new Error(`units failed during boot:\n${failed.stdout}\n--- their journal ---\n${journal.stdout}`);
      }
      return c;
    } catch (err) {
      await c.destroy();
      throw new Error(`${(err as Error).message}\n--- container console (${logFile}) ---\n${c.console()}`);
    }
  }

  /** The container's init is the nspawn process's child. */
  private async waitForInit(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    const parent = this.nspawn.pid;
    while (Date.now() < deadline) {
      if (this.exited || parent === undefined) throw new Error('systemd-nspawn exited while booting');
      try {
        const children = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
        for (const pid of children) {
          const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
          if (comm === 'systemd' && existsSync(`/proc/${pid}/root/run/systemd/private`)) {
            this.initStart = startTime(Number(pid));
            return Number(pid);
          }
        }
      } catch {
        // not there yet
      }
      await sleep(100);
    }
    throw new Error(`no systemd in the container after ${timeoutMs / 1000}s`);
  }

  /** Runs a command in all of the container's namespaces (as root there). Never throws for a non-zero exit. */
  exec(argv: string[], options: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ExecResult> {
    const env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8', 'TERM=dumb',
      'SYSTEMD_PAGER=', 'SYSTEMD_COLORS=0', ...Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`)];
    return new Promise((resolve, reject) => {
      const child = execFile('nsenter', ['-t', String(this.pid), '-a', 'env', '-i', ...env, ...argv], {
        encoding: 'utf8', maxBuffer: 64 << 20, timeout: options.timeoutMs ?? 120_000, killSignal: 'SIGKILL',
      }, (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
        if (e?.killed) reject(new Error(`timed out after ${(options.timeoutMs ?? 120_000) / 1000}s: ${argv.join(' ')}`));
        else if (e && typeof e.code !== 'number') reject(e);
        else resolve({ code: e ? Number(e.code) : 0, stdout, stderr });
      });
      if (options.input !== undefined) child.stdin?.end(options.input);
      else child.stdin?.end();
    });
  }

  /** Like exec, but a non-zero exit is an error that shows the output. */
  async run(argv: string[], options: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<string> {
    const r = await this.exec(argv, options);
    if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** A host path to a path inside the container. */
  path(inside: string): string {
    return join(this.dir, inside);
  }

  /** The console output so far (boot messages), for failure reports. */
  console(): string {
    try {
      return readFileSync(this.logFile, 'utf8').slice(-8000);
    } catch {
      return '';
    }
  }

  /** Powers the container off (SIGTERM to nspawn), then kills what is left. */
  async destroy(graceMs = 20_000): Promise<void> {
    if (!this.exited) {
      this.nspawn.kill('SIGTERM');
      const deadline = Date.now() + graceMs;
      while (!this.exited && Date.now() < deadline) await sleep(100);
    }
    this.killNow();
    const deadline = Date.now() + 5_000;
    while (!this.exited && Date.now() < deadline) await sleep(100);
    alive.delete(this);
    for (const g of this.cgroups) removeCgroup(g);
    // nspawn leaves its (empty) propagation directory behind when it runs without machined.
    rmSync(`/run/systemd/nspawn/propagate/${this.machine}`, { recursive: true, force: true });
  }

  /** SIGKILL to the container's init (which ends its PID namespace) and to nspawn. Synchronous, for exit handlers. */
  killNow(): void {
    const kill = (pid: number | undefined): void => {
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    // Only while the PID is still our init (same start time): after the container ended it may be someone else's.
    if (this.pid > 0 && startTime(this.pid) === this.initStart) kill(this.pid);
    if (!this.exited) kill(this.nspawn.pid);
  }
}

/** The cgroup hierarchies systemd uses here: the unified one and, on a hybrid host, the named systemd one. */
function cgroupHierarchies(): string[] {
  const hybrid = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup/systemd'].filter((h) => existsSync(join(h, 'cgroup.procs')));
  if (hybrid.length > 0) return hybrid;
  return existsSync('/sys/fs/cgroup/cgroup.procs') ? ['/sys/fs/cgroup'] : [];
}

/** A cgroup named after the machine in each hierarchy (next to the one this process is in). */
function createCgroups(machine: string): string[] {
  return cgroupHierarchies().map((h) => {
    const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n')
      .find((l) => (h.endsWith('/systemd') ? l.includes(':name=systemd:') : l.startsWith('0::')))?.split(':')[2] || '/';
    const dir = join(h, own === '/' ? '' : dirname(own), machine);
    mkdirSync(dir, { recursive: true });
    return dir;
  });
}

/** Removes a cgroup and the ones systemd made below it, deepest first (only empty cgroups can go). */
function removeCgroup(dir: string): void {
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroup(join(dir, e.name));
    rmdirSync(dir);
  } catch {
    // gone already, or a process is still in it: the kernel keeps it until then
  }
}
