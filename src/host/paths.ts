/**
 * Host paths under --root. Every host path, including paths found inside kubeconfigs and the targets of absolute
 * symlinks (the kubelet links kubelet-client-current.pem with an absolute path), resolves under the root.
 */
import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import type { Config } from '../config/config.js';
import { HostFileError, UsageError } from '../errors.js';

export interface HostPaths {
  root: string;
  kubernetes: string;
  pki: string;
  manifests: string;
  state: string;
  backups: string;
  staging: string;
  stateFile: string;
  lockFile: string;
  metricsDir: string;
}

/** `hostPath` (absolute on the host) as a path on this filesystem. */
export function underRoot(root: string, hostPath: string): string {
  return root === '/' ? normalize(hostPath) : join(root, normalize(hostPath));
}

/** The host path of a path on this filesystem (for messages and records): the inverse of underRoot. */
export function hostPathOf(root: string, fsPath: string): string {
  if (root === '/') return fsPath;
  const prefix = root.endsWith(sep) ? root : root + sep;
  return fsPath.startsWith(prefix) ? `/${fsPath.slice(prefix.length)}` : fsPath;
}

/** A message with every path under the root written as the host path (for reports and logs). */
export function hostText(root: string, text: string): string {
  if (root === '/') return text;
  const prefix = root.endsWith(sep) ? root : root + sep;
  return text.split(prefix).join('/');
}

export function hostPaths(rootArg: string, config: Config): HostPaths {
  const root = resolve(rootArg);
  assertRootDirectory(root);
  // Directories resolved once, here: a symlinked state or PKI directory stays under the root.
  const dir = (hostPath: string): string => resolveUnderRoot(root, underRoot(root, hostPath));
  const state = dir(config.paths.state);
  return {
    root,
    kubernetes: dir(config.paths.kubernetes),
    pki: dir(config.paths.pki),
    manifests: dir(config.paths.manifests),
    state,
    backups: join(state, 'backups'),
    staging: join(state, 'staging'),
    stateFile: join(state, 'state.json'),
    lockFile: join(state, 'lock'),
    metricsDir: config.metrics.textfileDir ? dir(config.metrics.textfileDir) : '',
  };
}

/**
 * `fsPath` with every symbolic link on the way resolved as if `root` were `/` (as chroot would): absolute link
 * targets start again at the root, and `..` never climbs above it, so the result is always under `root`, however
 * the links point. With `followFinal` false the last component is kept as it is (a link there is replaced, not
 * followed, when the file is written). Components that do not exist are taken literally. With root `/` the kernel
 * already resolves this way and the path is returned as it is.
 */
export function resolveUnderRoot(root: string, fsPath: string, followFinal = true): string {
  if (root === '/') return fsPath;
  const rel = relative(root, resolve(root, fsPath));
  const pending = rel.split(sep).filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let exists = true;
  let hops = 0;
  while (pending.length > 0) {
    const c = pending.shift() as string;
    if (c === '..') {
      done.pop();
      continue;
    }
    const candidate = join(root, ...done, c);
    const st = exists && (followFinal || pending.length > 0) ? lstatSync(candidate, { throwIfNoEntry: false }) : undefined;
    if (!st) exists = false;
    if (st?.isSymbolicLink()) {
      if (++hops > 40) throw new HostFileError(fsPath, 'has too many levels of symbolic links', 'fix the symbolic link loop');
      const target = readlinkSync(candidate);
      if (isAbsolute(target)) done.length = 0;
      pending.unshift(...target.split('/').filter((x) => x !== '' && x !== '.'));
      continue;
    }
    done.push(c);
  }
  return join(root, ...done);
}

/** Kept for callers that resolve a path found inside a file (a kubeconfig's client-certificate). */
export function resolveSymlinksUnderRoot(root: string, fsPath: string): string {
  return resolveUnderRoot(root, fsPath);
}

/** --root must name an existing directory: a typo must not get a fresh state tree created somewhere. */
export function assertRootDirectory(root: string): void {
  if (root === '/') return;
  const st = statSync(root, { throwIfNoEntry: false });
  if (!st) throw new UsageError(`--root ${root}: no such directory`, 'give the directory that holds the host tree (etc/kubernetes, var/lib/...)');
  if (!st.isDirectory()) throw new UsageError(`--root ${root}: not a directory`, 'give the directory that holds the host tree');
}
