/**
 * Atomic replacement of a file: a temporary file in the same directory (dot-prefixed, so the kubelet never runs a
 * half-written manifest), written and fsynced, renamed over the target, then the directory fsynced. Mode and owner
 * are set on the temporary file before the rename, so the target never exists with the wrong mode.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync, fchmodSync, fchownSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { faultPoint } from './faults.js';
import { HostFileError } from '../errors.js';

/** What to do about a failed write, by errno. */
const WRITE_HINTS: Record<string, { message: string; hint: string }> = {
  ENOSPC: { message: 'no space left on the filesystem holding it', hint: 'free space on that filesystem (df -h shows it), then run again; files that were not written are unchanged' },
  EDQUOT: { message: 'disk quota exceeded on the filesystem holding it', hint: 'raise the quota or free space, then run again; files that were not written are unchanged' },
  EROFS: { message: 'is on a read-only filesystem', hint: 'remount it read-write (or fix ReadWritePaths= in the systemd unit), then run again' },
  EACCES: { message: 'cannot be written (permission denied)', hint: 'run as root, or fix the permissions of the file and its directory' },
  EPERM: { message: 'cannot be written (operation not permitted; immutable?)', hint: 'check `lsattr` for the immutable flag and the unit\'s sandboxing, then run again' },
  EIO: { message: 'cannot be written (I/O error)', hint: 'check the disk (dmesg), then run again' },
};

/**
 * A write failure as a HostFileError naming `file` and what to do. Errors that are already typed pass through;
 * anything that is not an errno error is returned as it is (a bug, not a host condition).
 */
export function hostWriteError(file: string, err: unknown): unknown {
  if (err instanceof HostFileError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (!code) return err;
  const known = WRITE_HINTS[code];
  if (known) return new HostFileError(file, known.message, known.hint);
  return new HostFileError(file, `cannot be written (${code})`, 'check the file, its directory and the filesystem, then run again');
}

export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Our temporary files and only ours: `.<name>.kcr-<8 hex>`, what temporaryPathFor makes. */
export const TEMPORARY_NAME = /^\..+\.kcr-[0-9a-f]{8}$/;

export function temporaryPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.kcr-${randomBytes(4).toString('hex')}`);
}

export interface AtomicOptions {
  /** Keep the owner of the file being replaced (default true). */
  keepOwner?: boolean;
  /** Create missing parent directories with this mode. */
  mkdirMode?: number;
}

/** writeFileAtomic's steps; every failure is a HostFileError naming the target and what to do. */
export function writeFileAtomic(target: string, content: string | Buffer, mode: number, options: AtomicOptions = {}): void {
  try {
    replaceFile(target, content, mode, options);
  } catch (err) {
    throw hostWriteError(target, err);
  }
}

function replaceFile(target: string, content: string | Buffer, mode: number, options: AtomicOptions): void {
  const dir = dirname(target);
  if (options.mkdirMode !== undefined) mkdirSync(dir, { recursive: true, mode: options.mkdirMode });
  let owner: { uid: number; gid: number } | undefined;
  if (options.keepOwner !== false) {
    try {
      const st = statSync(target);
      owner = { uid: st.uid, gid: st.gid };
    } catch {
      owner = undefined;
    }
  }
  const tmp = temporaryPathFor(target);
  const fd = openSync(tmp, 'wx', mode);
  try {
    try {
      fchmodSync(fd, mode); // the umask must not loosen or tighten what we asked for
      const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      if (owner && (owner.uid !== process.getuid?.() || owner.gid !== process.getgid?.())) {
        fchownSync(fd, owner.uid, owner.gid);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    faultPoint('temp-written');
    renameSync(tmp, target);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw err;
  }
  fsyncDirectory(dir);
}
