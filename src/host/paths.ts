/**
 * Host paths under --root. Every host path, including paths found inside kubeconfigs and the targets of absolute
 * symlinks (the kubelet links kubelet-client-current.pem with an absolute path), resolves under the root.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import type { Config } from '../config/config.js';

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
  const state = underRoot(root, config.paths.state);
  return {
    root,
    kubernetes: underRoot(root, config.paths.kubernetes),
    pki: underRoot(root, config.paths.pki),
    manifests: underRoot(root, config.paths.manifests),
    state,
    backups: join(state, 'backups'),
    staging: join(state, 'staging'),
    stateFile: join(state, 'state.json'),
    lockFile: join(state, 'lock'),
    metricsDir: config.metrics.textfileDir ? underRoot(root, config.metrics.textfileDir) : '',
  };
}

/**
 * Follow symlinks of `fsPath` component by component, keeping absolute link targets inside `root`.
 * Returns the final path on this filesystem (which may not exist).
 */
export function resolveSymlinksUnderRoot(root: string, fsPath: string): string {
  let path = fsPath;
  for (let hops = 0; hops < 40; hops++) {
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return path;
    }
    if (!st.isSymbolicLink()) return path;
    const target = readlinkSync(path);
    path = isAbsolute(target) ? underRoot(root, target) : join(dirname(path), target);
  }
  throw new Error(`${fsPath}: too many levels of symbolic links`);
}
