/**
 * `history`, `rollback` and the records around them, driven through the built CLI and checked on disk (openssl,
 * modes, owners, journals): one run-id format, the most recent run only, refusal to roll back twice, status showing
 * a rolled-back last run, backups private and pruned oldest first, the lock honoured by rollback and told at once
 * (on stderr and in the sd_notify STATUS).
 * Each test here was seen to fail with the bug it names put in by hand (see the report on issue 11).
 */
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processStartTime } from '../src/host/proc.js';
import { CLI, runCli, snapshotFiles, statusJson } from './helpers/cli.js';
import { RENEWABLE, STATE_DIR, journalsOf, pemOf } from './helpers/crash.js';
import { stateOf, useFixtureCopies } from './helpers/host-trees.js';
import { readCert } from './helpers/openssl.js';
import { assertMatchesSchema, matchesSchema } from './helpers/schemas.js';

const CONFIG = 'renewInterval: 30d\nrenewBefore: 20d\nvalidity: 200d\nrestart:\n  enabled: true\n  verify: false\n';
const RUN_ID = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}$/;
const trees = useFixtureCopies({ issuedDaysAgo: 40, keyAlgorithm: 'ecdsa-p256' });

function ok(root: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = runCli(['--root', root, ...args], env);
  expect(r.code, r.stderr).toBe(0);
  return r.stderr;
}

function history(root: string, env: NodeJS.ProcessEnv = {}): { runs: Array<Record<string, any>> } {
  const r = runCli(['--root', root, 'history', '-o', 'json'], env);
  expect(r.code, r.stderr).toBe(0);
  const report = JSON.parse(r.stdout);
  assertMatchesSchema('history', report);
  return report;
}

describe('history', () => {
  it('lists every run in one id format, with what it renewed and restarted, under a non-UTC time zone too', () => {
    const root = trees.copy(CONFIG);
    const TZ = { TZ: 'Asia/Kolkata' };
    ok(root, ['run'], TZ);
    ok(root, ['run'], TZ); // renews nothing: still a run id in the journal's format
    const state = stateOf(root);
    expect(state.lastRun.id).toMatch(RUN_ID);
    for (const t of [state.lastRun.startedAt, state.lastRun.finishedAt, state.entries.apiserver.renewedAt]) expect(t).toMatch(/Z$/);
    const h = history(root, TZ);
    expect(h.runs).toHaveLength(2);
    const [first, second] = h.runs;
    expect(first).toMatchObject({ outcome: 'success', rolledBack: false, restarted: ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] });
    expect([...first!.renewed].sort()).toEqual(RENEWABLE);
    expect(second).toMatchObject({ id: state.lastRun.id, renewed: [], restarted: [], outcome: 'success' });
    expect(first!.id < second!.id).toBe(true);
    expect(matchesSchema('history', { ...h, runs: [{ ...first, startedAt: '2026-12-02T15:00:00+05:30' }] }), 'negative control').toBe(false);
    const table = runCli(['--root', root, 'history']).stdout;
    expect(table).toMatch(/^RUN ID\s+STARTED\s+RENEWED\s+RESTARTED\s+OUTCOME\s+ROLLED BACK$/m);
    expect(table).toMatch(new RegExp(`^${first!.id}\\s+\\S+Z\\s+11\\s+4\\s+success\\s+no$`, 'm'));
  });

  it('restarts are made in order: etcd, kube-apiserver, kube-controller-manager, kube-scheduler', () => {
    const root = trees.copy(CONFIG);
    const stderr = ok(root, ['run']);
    const order = [...stderr.matchAll(/restarting (\S+) \(manifest annotated\)/g)].map((m) => m[1]);
    expect(order).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
  });
});

describe('rollback', () => {
  it('rolls back the most recent run only, says the certificates are due again, refuses a second time', () => {
    const root = trees.copy(CONFIG);
    ok(root, ['run']);
    const firstSerial = readCert(pemOf(trees.base, root, 'front-proxy-client').cert).serial;
    ok(root, ['renew', 'front-proxy-client']);
    const [first, second] = journalsOf(root);
    const stderr = ok(root, ['rollback']);
    expect(stderr).toContain('are due again: the next timer run will renew them');
    expect(stderr).toContain('systemctl stop kube-cert-renewer.timer');
    // Only the second run was undone: front-proxy-client is the first run's certificate again, the rest untouched.
    expect(readCert(pemOf(trees.base, root, 'front-proxy-client').cert).serial).toBe(firstSerial);
    expect(journalsOf(root).map((j) => j.phase)).toEqual(['done', 'rolled-back']);
    const again = runCli(['--root', root, 'rollback']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`the most recent run, ${second!.id}, is already rolled back`);
    expect(again.stderr).toContain(`kube-cert-renewer rollback ${first!.id}`);
    expect(history(root).runs.map((r) => r.rolledBack)).toEqual([false, true]);
  });

  it('after a rollback the state keeps no last renewal for restored kubeadm certificates; status shows the run rolled back', () => {
    const root = trees.copy(CONFIG);
    ok(root, ['run']);
    ok(root, ['rollback']);
    expect(stateOf(root).entries).toEqual({});
    const { report } = statusJson(root);
    expect(report.certificates.filter((c) => c.lastRenewal !== undefined).map((c) => c.name)).toEqual([]);
    expect(report.lastRun?.rolledBackAt).toMatch(/Z$/);
    expect(runCli(['--root', root, 'status']).stdout).toMatch(/Last run \S+ was rolled back at /);
  });

  it('takes the lock: a live run holding it makes rollback give up and change nothing', () => {
    const root = trees.copy(CONFIG);
    ok(root, ['run']);
    const before = snapshotFiles(join(root, 'etc/kubernetes'));
    const lock = join(root, STATE_DIR, 'lock');
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    writeFileSync(lock, JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid), bootId, command: 'run', since: '2026-01-01T00:00:00Z' }));
    const r = runCli(['--root', root, 'rollback']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`another kube-cert-renewer run holds ${lock} (pid ${process.pid}`);
    expect(snapshotFiles(join(root, 'etc/kubernetes'))).toEqual(before);
  }, 60_000);
});

/** A lock in `root` held by this (live) test process, as a run would write it; its path. */
function holdLock(root: string): string {
  const lock = join(root, STATE_DIR, 'lock');
  mkdirSync(join(root, STATE_DIR), { recursive: true });
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  writeFileSync(lock, JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid), bootId, command: 'run', since: '2026-01-01T00:00:00Z' }));
  return lock;
}

describe('the lock', () => {
  it('a lock naming a live process with another start time (pid reused) is stale and taken over', () => {
    const root = trees.copy(CONFIG);
    const lock = join(root, STATE_DIR, 'lock');
    mkdirSync(join(root, STATE_DIR), { recursive: true });
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    writeFileSync(lock, JSON.stringify({ pid: process.pid, startTime: '1', bootId, command: 'run', since: '2026-01-01T00:00:00Z' }));
    const started = Date.now();
    ok(root, ['run']);
    expect(Date.now() - started, 'taken over at once, not after the wait').toBeLessThan(9_000);
    expect(existsSync(lock)).toBe(false);
  });

  it('a run waiting for the lock says so at once, with the holder\'s pid', async () => {
    const root = trees.copy(CONFIG);
    const lock = holdLock(root);
    const child = spawn(process.execPath, [CLI, '--root', root, 'run'], { env: { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: '' } });
    let stderr = '';
    const said = new Promise<number>((resolve) => child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/waiting for the lock/.test(stderr)) resolve(Date.now());
    }));
    const started = Date.now();
    const at = await said;
    expect(stderr).toContain(`waiting for the lock: another kube-cert-renewer run holds it (pid ${process.pid}, \`run\``);
    expect(at - started).toBeLessThan(5_000);
    rmSync(lock); // the holder finishes: the waiting run goes ahead
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
  }, 60_000);

  it('a run waiting for the lock says so at once in its sd_notify STATUS, with the holder\'s pid', async () => {
    const root = trees.copy(CONFIG);
    const lock = holdLock(root);
    const socket = await notifyListener(join(trees.scratch(), 'notify.sock'));
    const child = spawn(process.execPath, [CLI, '--root', root, 'run'], { env: { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: socket.path } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const started = Date.now();
      const status = await socket.next(/^STATUS=waiting for the lock/m, 5_000);
      expect(status, `no STATUS= datagram within 5 s; got ${JSON.stringify(socket.seen)}; stderr: ${stderr}`).toBeDefined();
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(status).toMatch(new RegExp(`^STATUS=waiting for the lock held by pid ${process.pid}, \`run\``, 'm'));
      rmSync(lock); // the holder finishes: the waiting run goes ahead
      expect(await closed, stderr).toBe(0);
    } finally {
      child.kill();
      socket.close();
    }
  }, 60_000);
});

/**
 * An AF_UNIX datagram socket standing in for systemd's notify socket (Node has none: a python3 listener prints each
 * datagram as a JSON string on a line). Like PID 1 it closes the fds that come with a datagram, so the
 * systemd-notify helper's BARRIER=1 completes instead of timing out.
 */
async function notifyListener(path: string): Promise<{ path: string; seen: string[]; next(re: RegExp, ms: number): Promise<string | undefined>; close(): void }> {
  const script = 'import json, socket, sys\ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\n'
    + 'print("ready", flush=True)\nwhile True:\n    print(json.dumps(s.recv(65536).decode()), flush=True)\n';
  const py = spawn('python3', ['-c', script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const seen: string[] = [];
  const waiters: Array<() => void> = [];
  let buf = '';
  let ready: () => void = () => undefined;
  const isReady = new Promise<void>((resolve, reject) => {
    ready = resolve;
    py.on('exit', (code) => reject(new Error(`the python3 notify listener exited (${code}) before it was ready`)));
    py.on('error', reject);
  });
  py.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line === 'ready') ready();
      else seen.push(JSON.parse(line) as string);
    }
    waiters.forEach((w) => w());
  });
  await isReady;
  const next = (re: RegExp, ms: number): Promise<string | undefined> => new Promise((resolve) => {
    const timer = setTimeout(() => resolve(seen.find((m) => re.test(m))), ms);
    const check = (): void => {
      const hit = seen.find((m) => re.test(m));
      if (hit !== undefined) { clearTimeout(timer); resolve(hit); }
    };
    waiters.push(check);
    check();
  });
  return { path, seen, next, close: () => py.kill() };
}

describe('backups', () => {
  it('are private (files 0600, directories 0700) and keep the owner and group of every file they replace', () => {
    const root = trees.copy(CONFIG);
    const pki = join(root, 'etc/kubernetes/pki');
    chownSync(join(pki, 'apiserver.crt'), 1234, 2345);
    chownSync(join(pki, 'apiserver.key'), 1234, 2345);
    chownSync(join(root, 'etc/kubernetes/admin.conf'), 4321, 5432);
    ok(root, ['run']);
    for (const [f, uid, gid] of [['pki/apiserver.crt', 1234, 2345], ['pki/apiserver.key', 1234, 2345], ['admin.conf', 4321, 5432]] as const) {
      const st = statSync(join(root, 'etc/kubernetes', f));
      expect([st.uid, st.gid], f).toEqual([uid, gid]);
    }
    const walk = (d: string): Array<[string, number, boolean]> => readdirSync(d).flatMap((n) => {
      const p = join(d, n);
      const st = statSync(p);
      return st.isDirectory() ? [[p, st.mode & 0o777, true] as [string, number, boolean], ...walk(p)] : [[p, st.mode & 0o777, false] as [string, number, boolean]];
    });
    const entries = walk(join(root, STATE_DIR, 'backups'));
    expect(entries.length).toBeGreaterThan(20);
    expect(entries.filter(([, mode, dir]) => mode !== (dir ? 0o700 : 0o600)).map(([p, m]) => `${p} ${m.toString(8)}`)).toEqual([]);
    // rollback puts the owners back too
    ok(root, ['rollback']);
    expect([statSync(join(pki, 'apiserver.key')).uid, statSync(join(pki, 'apiserver.key')).gid]).toEqual([1234, 2345]);
  });

  it('backups.keep keeps the newest runs and removes the oldest', () => {
    const root = trees.copy(`${CONFIG}backups:\n  keep: 2\n`);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ok(root, ['renew', 'front-proxy-client']);
      ids.push(stateOf(root).lastRun.id);
    }
    expect(readdirSync(join(root, STATE_DIR, 'backups')).sort()).toEqual(ids.slice(2));
  });
});

const expiredTrees = useFixtureCopies({ expired: true, keyAlgorithm: 'ecdsa-p256' });

describe('post-renew hooks', () => {
  it('do not run after a run that failed but kept what it renewed (restart failed, previous certificates expired)', () => {
    const out = trees.scratch();
    const root = expiredTrees.copy(`${CONFIG}hooks:\n  postRenew:\n    - touch ${out}/ran\n`);
    writeFileSync(join(root, 'etc/kubernetes/manifests/kube-scheduler.yaml'), 'a: 1\n---\nb: 2\n');
    const r = runCli(['--root', root, 'run']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NOT rolling back/);
    expect(stateOf(root).lastRun.renewed.length).toBeGreaterThan(0);
    expect(existsSync(join(out, 'ran'))).toBe(false);
  });

  it('do not run after a failed run (a restart that failed, rolled back)', () => {
    const out = trees.scratch();
    const root = trees.copy(`${CONFIG}hooks:\n  postRenew:\n    - touch ${out}/ran\n`);
    writeFileSync(join(root, 'etc/kubernetes/manifests/kube-scheduler.yaml'), 'a: 1\n---\nb: 2\n');
    const r = runCli(['--root', root, 'run']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/kube-scheduler could not be restarted/);
    expect(existsSync(join(out, 'ran'))).toBe(false);
    // and they do run after a good one, so the check above can fail
    writeFileSync(join(root, 'etc/kubernetes/manifests/kube-scheduler.yaml'), readFileSync(join(trees.base.root, 'etc/kubernetes/manifests/kube-scheduler.yaml')));
    ok(root, ['run']);
    expect(existsSync(join(out, 'ran'))).toBe(true);
  });
});
