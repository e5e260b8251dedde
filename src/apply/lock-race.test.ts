/**
 * Two runs that find the same stale lock: the first removes it and takes the lock; the second, which read the stale
 * lock a moment before, must not then remove the first one's lock as if it were the stale one (two runs would hold
 * the lock at once). The test makes the other run's lock take the stale one's place at the moment acquireLock judges
 * the dead holder (its /proc lookup), in each way a replacement can look like the file read before: a new file with
 * another inode; a new file that got the freed inode number back; and, on a filesystem with timestamps to the
 * second, the same mtime as well.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { LockError } from '../errors.js';
import { processStartTime } from '../host/proc.js';
import { acquireLock } from './lock.js';

const race = vi.hoisted(() => ({ pending: undefined as undefined | { pid: number; replace: () => void } }));
vi.mock('../host/proc.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../host/proc.js')>();
  return {
    ...real,
    processStartTime: (pid: number | string, proc?: string): string | undefined => {
      const r = race.pending;
      if (r && Number(pid) === r.pid) {
        race.pending = undefined;
        r.replace(); // the other run takes the lock now
      }
      return real.processStartTime(pid, proc);
    },
  };
});

const BOOT_ID = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
let dir: string;
let file: string;
let live: ChildProcess;

/** A lock file naming `pid`, padded to `size` bytes when given (so a replacement can have the same size). */
function lockText(pid: number, command: string, size?: number): string {
  const text = (c: string): string => `${JSON.stringify({ pid, startTime: processStartTime(pid) ?? '1', bootId: BOOT_ID, command: c, since: '2026-11-22T12:00:00.000Z' })}\n`;
  return size === undefined ? text(command) : text(command.padEnd(command.length + size - text(command).length));
}

beforeAll(async () => {
  live = spawn('sleep', ['300'], { stdio: 'ignore' });
  await new Promise((r) => live.on('spawn', r));
});
afterAll(() => {
  live.kill('SIGKILL');
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kcr-lock-race-'));
  file = join(dir, 'lock');
  return () => rmSync(dir, { recursive: true, force: true });
});

async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((r) => child.on('exit', r));
  return child.pid as number;
}

const SECOND = Math.floor(Date.now() / 1000) - 60;

describe('acquireLock racing another run for a stale lock', () => {
  it.each([
    ['a new file (another inode)', { sameInode: false, sameSecond: false, sameSize: false }],
    ['a new file that got the freed inode number back, of the same size', { sameInode: true, sameSecond: false, sameSize: true }],
    ['a new file with the same mtime to the second and the same size', { sameInode: false, sameSecond: true, sameSize: true }],
    ['the freed inode number and the same mtime to the second, another size', { sameInode: true, sameSecond: true, sameSize: false }],
  ])('leaves the other run’s lock alone when it replaced the stale one: %s', async (_, how) => {
    const dead = await deadPid();
    const stale = lockText(dead, 'renew apiserver etcd-server');
    writeFileSync(file, stale);
    utimesSync(file, SECOND, SECOND);
    const theirs = lockText(live.pid as number, 'run', how.sameSize ? Buffer.byteLength(stale) : Buffer.byteLength(stale) + 7);
    race.pending = {
      pid: dead,
      replace: () => {
        if (how.sameInode) {
          writeFileSync(file, theirs); // rewritten in place: the inode number stays
        } else {
          writeFileSync(`${file}.other`, theirs);
          renameSync(`${file}.other`, file); // created while the stale inode still exists: another number
        }
        if (how.sameSecond) utimesSync(file, SECOND, SECOND);
      },
    };
    const inode = statSync(file).ino;
    const warnings: string[] = [];
    const err = await acquireLock(file, 'rollback', 500, (m) => warnings.push(m)).catch((e: unknown) => e);
    expect(warnings, 'nothing was taken over, so nothing says so').toEqual([]);
    expect(race.pending, 'the other run did take the lock in between').toBeUndefined();
    expect(statSync(file).ino === inode).toBe(how.sameInode);
    expect(err).toBeInstanceOf(LockError);
    expect((err as LockError).message).toBe(`another kube-cert-renewer run holds ${file} (pid ${live.pid}, \`${JSON.parse(theirs).command}\` since 2026-11-22T12:00:00.000Z)`);
    expect(readFileSync(file, 'utf8')).toBe(theirs);
  });
});
