/**
 * One run at a time: an exclusive lock file (O_EXCL) naming its holder by pid, process start time and boot id.
 * A second run waits briefly, then gives up with a clear message. A lock left by a dead process (crash, kill -9,
 * reboot) is recognised as stale and taken over, so a crash never blocks the timer forever.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { LockError } from '../errors.js';
import { processStartTime } from '../host/proc.js';

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

export interface Lock {
  release(): void;
}

/** `onWait` is told once, at once, who holds the lock when this process has to wait for it. */
export async function acquireLock(file: string, command: string, waitMs = 10_000, onWait?: (holder: string) => void): Promise<Lock> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
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
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(me)}\n`);
      } finally {
        closeSync(fd);
      }
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
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let text = '';
    let holder: Holder | undefined;
    try {
      text = readFileSync(file, 'utf8');
      holder = JSON.parse(text) as Holder;
    } catch {
      holder = undefined; // being written right now, or damaged: look again shortly
    }
    if (holder && !isAlive(holder)) {
      // Stale: remove it only if it is still the same stale lock we read.
      try {
        if (readFileSync(file, 'utf8') === text) unlinkSync(file);
      } catch {
        // someone else cleaned it up
      }
      continue;
    }
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
