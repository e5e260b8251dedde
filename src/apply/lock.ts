/**
 * One run at a time: an exclusive lock file (O_EXCL) naming its holder by pid, process start time and boot id.
 * A second run waits briefly, then gives up with a clear message. A lock left by a dead process (crash, kill -9,
 * reboot) is recognised as stale and taken over, so a crash never blocks the timer forever.
 */
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { LockError } from '../errors.js';
import { hostWriteError } from '../host/atomic.js';
import { processStartTime } from '../host/proc.js';
import { readBoundedText } from '../host/read.js';

interface Holder {
  pid: number;
  startTime: string;
  bootId: string;
  command: string;
  since: string;
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

function isAlive(holder: Holder): boolean {
  if (holder.bootId && holder.bootId !== bootId()) return false;
  const start = processStartTime(holder.pid);
  return start !== undefined && start === holder.startTime;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A lock file that holds no holder (empty or cut short: its writer died between creating and writing it) for this
 * long is stale: a live writer fills it microseconds after creating it.
 */
export const DAMAGED_LOCK_GRACE_MS = 3_000;

interface LockFileSeen {
  holder?: Holder;
  /** What is there when it is not a regular file ('directory', 'symbolic link', ...): never a lock a run made. */
  notAFile?: string;
  /** Identity of the file read, so only that file is removed when it is stale. */
  ino: number;
  mtimeMs: number;
  size: number;
}

function readLockFile(file: string): LockFileSeen | undefined {
  let st;
  try {
    st = lstatSync(file);
  } catch {
    return undefined; // gone: try to take it again
  }
  const seen: LockFileSeen = { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size };
  if (!st.isFile()) {
    seen.notAFile = st.isDirectory() ? 'a directory' : st.isSymbolicLink() ? 'a symbolic link' : st.isFIFO() ? 'a FIFO' : 'a socket or device';
    return seen;
  }
  try {
    const parsed = JSON.parse(readBoundedText(file, 'lock')) as Holder;
    if (parsed && typeof parsed.pid === 'number' && typeof parsed.startTime === 'string') seen.holder = parsed;
  } catch {
    // empty, cut short, damaged or not a regular file: no holder
  }
  return seen;
}

function isStale(seen: LockFileSeen, now: number): boolean {
  if (seen.holder) return !isAlive(seen.holder);
  return now - seen.mtimeMs > DAMAGED_LOCK_GRACE_MS;
}

/**
 * Remove the stale lock file `seen` described, unless it has been replaced since: 'removed' (ours to say so),
 * 'gone' (replaced by another run's lock, or already removed: try again, nothing taken over) or 'failed'.
 */
function removeStale(file: string, seen: LockFileSeen): 'removed' | 'gone' | 'failed' {
  try {
    const st = lstatSync(file);
    if (st.ino !== seen.ino || st.mtimeMs !== seen.mtimeMs || st.size !== seen.size) return 'gone';
    unlinkSync(file);
    return 'removed';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'failed'; // someone else cleaned it up
  }
}

export interface Lock {
  release(): void;
}

function tryCreate(file: string, me: Holder): Lock | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw hostWriteError(file, err);
  }
  try {
    writeSync(fd, `${JSON.stringify(me)}\n`);
  } catch (err) {
    closeSync(fd);
    unlinkSync(file);
    throw hostWriteError(file, err);
  }
  closeSync(fd);
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      try {
        unlinkSync(file);
      } catch {
        // already gone
      }
    },
  };
}

/**
 * Take the lock, waiting up to `waitMs` for a live holder. `warn` hears about a stale lock taken over (a dead
 * holder, or an empty or damaged lock file).
 */
export async function acquireLock(
  file: string, command: string, waitMs = 10_000, warn: (message: string) => void = () => undefined,
  onWait?: (holder: string) => void,
): Promise<Lock> {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw hostWriteError(dirname(file), err);
  }
  const me: Holder = {
    pid: process.pid,
    startTime: processStartTime(process.pid) ?? '',
    bootId: bootId(),
    command,
    since: new Date().toISOString(),
  };
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    const lock = tryCreate(file, me);
    if (lock) return lock;
    const seen = readLockFile(file);
    if (seen?.notAFile) {
      // Runs take the lock by creating a regular file here; whatever this is, no run made it and none will remove it.
      throw new LockError(`${file} is ${seen.notAFile}, not a lock file`, `remove it (no kube-cert-renewer run makes one there), then try again`);
    }
    const removed = seen && isStale(seen, Date.now()) ? removeStale(file, seen) : 'failed';
    if (removed === 'removed' && seen) {
      warn(seen.holder
        ? `${file}: took over the lock of pid ${seen.holder.pid} (\`${seen.holder.command}\`), which is no longer running`
        : `${file}: took over a lock file left empty or damaged by a run that died while taking it`);
    }
    if (removed !== 'failed') continue;
    const holder = seen?.holder;
    const who = holder ? `pid ${holder.pid}, \`${holder.command}\` since ${holder.since}` : 'another process';
    if (!told && onWait) {
      told = true;
      onWait(who);
    }
    if (Date.now() >= deadline) {
      throw new LockError(
        `another kube-cert-renewer run holds ${file} (${who})`,
        'wait for it to finish (journalctl -u kube-cert-renewer shows it), then try again',
      );
    }
    await sleep(200);
  }
}
