/**
 * The run lock on a temp dir, with real processes as holders: a live holder (pid, start time and boot id all its
 * own) is waited for and never taken over; a holder that is gone — dead pid, a pid reused by another process (other
 * start time), a lock from before a reboot (other boot id) — is stale and taken over.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HostFileError, LockError } from '../errors.js';
import { processStartTime } from '../host/proc.js';
import { DAMAGED_LOCK_GRACE_MS, acquireLock } from './lock.js';

const BOOT_ID = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
let dir: string;
let file: string;
let live: ChildProcess;

function holder(over: Partial<{ pid: number; startTime: string; bootId: string; command: string; since: string }> = {}): string {
  const pid = live.pid as number;
  return `${JSON.stringify({
    pid, startTime: processStartTime(pid), bootId: BOOT_ID, command: 'run', since: '2026-11-22T12:00:00.000Z', ...over,
  })}\n`;
}

async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((r) => child.on('exit', r));
  return child.pid as number;
}

beforeAll(async () => {
  live = spawn('sleep', ['300'], { stdio: 'ignore' });
  await new Promise((r) => live.on('spawn', r));
});
afterAll(() => {
  live.kill('SIGKILL');
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kcr-lock-'));
  file = join(dir, 'state', 'lock');
  return () => rmSync(dir, { recursive: true, force: true });
});

describe('acquireLock', () => {
  it('creates a 0600 lock in a 0700 directory naming this process by pid, start time and boot id', async () => {
    const before = Date.now();
    const lock = await acquireLock(file, 'run', 1_000);
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const held = JSON.parse(readFileSync(file, 'utf8'));
    expect(held).toMatchObject({ pid: process.pid, startTime: processStartTime(process.pid), bootId: BOOT_ID, command: 'run' });
    expect(held.startTime).toMatch(/^\d+$/);
    expect(Date.parse(held.since)).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(held.since)).toBeLessThanOrEqual(Date.now());
    lock.release();
    expect(existsSync(file)).toBe(false);
  });

  it('is released once: a second release does not remove a lock taken since by another run', async () => {
    const first = await acquireLock(file, 'run', 1_000);
    first.release();
    const second = await acquireLock(file, 'rollback', 1_000);
    first.release();
    expect(JSON.parse(readFileSync(file, 'utf8')).command).toBe('rollback');
    second.release();
  });

  it('waits for a live holder and gives up naming it, leaving its lock as it was', async () => {
    const text = holder({ command: 'renew apiserver' });
    await acquireLock(file, 'setup', 1_000).then((l) => l.release()); // creates the directory
    writeFileSync(file, text, { mode: 0o600 });
    const started = Date.now();
    const err = await acquireLock(file, 'run', 500).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(err).toBeInstanceOf(LockError);
    expect((err as LockError).message).toBe(
      `another kube-cert-renewer run holds ${file} (pid ${live.pid}, \`renew apiserver\` since 2026-11-22T12:00:00.000Z)`,
    );
    expect((err as LockError).hint).toBe('wait for it to finish (journalctl -u kube-cert-renewer shows it), then try again');
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('judges a holder without a boot id by pid and start time alone: a live one is not taken over', async () => {
    await acquireLock(file, 'setup', 1_000).then((l) => l.release());
    writeFileSync(file, holder({ bootId: '' }));
    await expect(acquireLock(file, 'run', 300)).rejects.toThrowError(LockError);
  });

  it('takes the lock as soon as the holder releases it', async () => {
    const first = await acquireLock(file, 'run', 1_000);
    setTimeout(() => first.release(), 300);
    const second = await acquireLock(file, 'rollback', 10_000);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, command: 'rollback' });
    second.release();
  });

  it('does not take over a lock whose content cannot be read yet (being written), and says who holds it as best it can', async () => {
    await acquireLock(file, 'setup', 1_000).then((l) => l.release());
    writeFileSync(file, '{"pid": 12');
    const err = await acquireLock(file, 'run', 300).catch((e: unknown) => e);
    expect((err as LockError).message).toBe(`another kube-cert-renewer run holds ${file} (another process)`);
    expect(readFileSync(file, 'utf8')).toBe('{"pid": 12');
  });

  it('fails at once, not after waiting, when the lock file cannot be created at all', async () => {
    const unusable = join(dir, 'state', 'x'.repeat(300));
    const started = Date.now();
    const err = await acquireLock(unusable, 'run', 5_000).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err).not.toBeInstanceOf(LockError);
    expect(String((err as Error).message)).toMatch(/ENAMETOOLONG|name too long/i);
  });

  it.each([
    ['a dead pid', async () => holder({ pid: await deadPid() })],
    ['a live pid with another start time (the pid was reused)', async () => holder({ startTime: '1' })],
    ['a live pid and start time from before a reboot (another boot id)', async () => holder({ bootId: '00000000-0000-0000-0000-000000000000' })],
  ])('takes over a stale lock: %s', async (_, stale) => {
    await acquireLock(file, 'setup', 1_000).then((l) => l.release());
    writeFileSync(file, await stale());
    const started = Date.now();
    const lock = await acquireLock(file, 'run', 5_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, command: 'run' });
    lock.release();
  });

  it('says whose stale lock it took over', async () => {
    await acquireLock(file, 'setup', 1_000).then((l) => l.release());
    const pid = await deadPid();
    writeFileSync(file, holder({ pid, command: 'renew apiserver' }));
    const warnings: string[] = [];
    const waits: string[] = [];
    const lock = await acquireLock(file, 'run', 5_000, (m) => warnings.push(m), (who) => waits.push(who));
    expect(warnings).toEqual([`${file}: took over the lock of pid ${pid} (\`renew apiserver\`), which is no longer running`]);
    expect(waits, 'a dead holder is not waited for, not even once').toEqual([]);
    lock.release();
  });

  it('takes over an empty or damaged lock once it is older than a writer could take to fill it, and says so', async () => {
    await acquireLock(file, 'setup', 1_000).then((l) => l.release());
    writeFileSync(file, '');
    const old = (Date.now() - DAMAGED_LOCK_GRACE_MS - 5_000) / 1000;
    utimesSync(file, old, old);
    const warnings: string[] = [];
    const lock = await acquireLock(file, 'run', 5_000, (m) => warnings.push(m));
    expect(warnings).toEqual([`${file}: took over a lock file left empty or damaged by a run that died while taking it`]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, command: 'run' });
    lock.release();
  });

  it.each([
    ['no start time', { pid: 0, command: 'run' }],
    ['a pid that is not a number', { pid: 'x', startTime: '1', command: 'run' }],
    ['JSON null', null],
  ])('does not read a fresh lock with %s as a holder: it waits, and takes nothing over', async (_, content) => {
    await acquireLock(file, 'setup', 1_000).then((l) => l.release());
    const text = JSON.stringify(content && { ...content, pid: content.pid === 0 ? live.pid : content.pid });
    writeFileSync(file, text);
    const err = await acquireLock(file, 'run', 300).catch((e: unknown) => e);
    expect((err as LockError).message).toBe(`another kube-cert-renewer run holds ${file} (another process)`);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('says once, when it starts waiting, who holds the lock; a free lock is taken without a word', async () => {
    const waits: string[] = [];
    await acquireLock(file, 'setup', 1_000, undefined, (who) => waits.push(who)).then((l) => l.release());
    expect(waits).toEqual([]);
    writeFileSync(file, holder({ command: 'renew apiserver' }));
    await expect(acquireLock(file, 'run', 700, undefined, (who) => waits.push(who))).rejects.toThrowError(LockError);
    expect(waits).toEqual([`pid ${live.pid}, \`renew apiserver\` since 2026-11-22T12:00:00.000Z`]);
  });

  it('never removes a directory in place of the lock file, however old: it says what is there at once', async () => {
    mkdirSync(file, { recursive: true });
    const old = (Date.now() - DAMAGED_LOCK_GRACE_MS - 5_000) / 1000;
    utimesSync(file, old, old);
    const warnings: string[] = [];
    const started = Date.now();
    const err = await acquireLock(file, 'run', 10_000, (m) => warnings.push(m)).catch((e: unknown) => e);
    expect(Date.now() - started, 'no wait for a holder that does not exist').toBeLessThan(5_000);
    expect(err).toBeInstanceOf(LockError);
    expect((err as LockError).message).toBe(`${file} is a directory, not a lock file`);
    expect((err as LockError).hint).toMatch(/^remove it/);
    expect(warnings).toEqual([]);
    expect(statSync(file).isDirectory()).toBe(true);
  });

  it('says what else stands at the lock path: a symbolic link, a FIFO', async () => {
    await acquireLock(file, 'setup', 1_000).then((l) => l.release());
    symlinkSync('/nonexistent', file);
    await expect(acquireLock(file, 'run', 10_000)).rejects.toThrowError(`${file} is a symbolic link, not a lock file`);
    rmSync(file);
    execFileSync('mkfifo', [file]);
    await expect(acquireLock(file, 'run', 10_000)).rejects.toThrowError(`${file} is a FIFO, not a lock file`);
  });

  it('names the directory it cannot create for the lock', async () => {
    writeFileSync(join(dir, 'state'), 'a file where the state directory should be');
    const err = await acquireLock(file, 'run', 1_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostFileError);
    expect((err as HostFileError).file).toBe(join(dir, 'state'));
    expect((err as HostFileError).message).toBe(`${join(dir, 'state')}: cannot be written (EEXIST)`);
  });
});
