/**
 * Bounded reads of host files. Every file the agent reads (PEM, kubeconfig, manifest, config, state, journal, lock)
 * goes through here: the file is opened non-blocking and checked with fstat before a byte is read, so a FIFO, a
 * device or a directory in its place is refused at once instead of hanging a oneshot forever, and a file larger
 * than its kind can ever be is refused instead of read into memory.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { HostFileError } from '../errors.js';

/** The largest file of each kind the agent reads. kubeadm's own files are a few KiB; these leave ample room. */
export const READ_LIMITS = {
  pem: 1024 * 1024,
  kubeconfig: 1024 * 1024,
  manifest: 1024 * 1024,
  config: 256 * 1024,
  state: 4 * 1024 * 1024,
  journal: 4 * 1024 * 1024,
  lock: 4 * 1024,
} as const;

export type FileKind = keyof typeof READ_LIMITS;

/** Why a bounded read refused a file that exists: the caller decides whether that is a problem or an error. */
export class RefusedFileError extends HostFileError {
  constructor(file: string, readonly reason: 'not-regular' | 'too-large', readonly detail: string, hint: string) {
    super(file, detail, hint);
  }
}

function kindOfNode(mode: number): string {
  const type = mode & constants.S_IFMT;
  if (type === constants.S_IFIFO) return 'a FIFO (named pipe)';
  if (type === constants.S_IFSOCK) return 'a socket';
  if (type === constants.S_IFCHR) return 'a character device';
  if (type === constants.S_IFBLK) return 'a block device';
  if (type === constants.S_IFDIR) return 'a directory';
  return 'not a regular file';
}

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / 1024 / 102.4) / 10} MiB` : `${Math.round(bytes / 102.4) / 10} KiB`;
}

/**
 * The bytes of `file`, at most `limit` of them. Throws the open error as Node gives it (ENOENT, EACCES: the callers
 * already word those), or a RefusedFileError naming the file when it is not a regular file or is larger than `limit`.
 */
export function readBounded(file: string, limit: number): Buffer {
  // O_NONBLOCK: opening a FIFO with no writer for reading would otherwise block here, before fstat could look.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new RefusedFileError(file, 'not-regular', `is ${kindOfNode(st.mode)}, not a regular file`,
        'replace it with the real file (restore it from a backup or regenerate it with kubeadm)');
    }
    if (st.size > limit) {
      throw new RefusedFileError(file, 'too-large', `is ${sizeText(st.size)}, larger than any valid file of its kind (limit ${sizeText(limit)})`,
        'replace it with the real file (restore it from a backup or regenerate it with kubeadm)');
    }
    // Read up to limit + 1 bytes whatever fstat said: a file that grows while it is read is still bounded.
    const buf = Buffer.allocUnsafe(limit + 1);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    if (off > limit) {
      throw new RefusedFileError(file, 'too-large', `grew past ${sizeText(limit)} while it was read`, 'make sure nothing else writes it');
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/** readBounded as UTF-8 text. */
export function readBoundedText(file: string, kind: FileKind): string {
  return readBounded(file, READ_LIMITS[kind]).toString('utf8');
}
