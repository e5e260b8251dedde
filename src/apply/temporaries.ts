/**
 * Temporary files a killed process left: writeFileAtomic's `.<name>.kcr-<8 hex>` next to its target, in the
 * Kubernetes, PKI and manifests directories and the state directory (backups included). Every run and rollback
 * removes them before writing anything, so a crash never leaves a stray dot-file for the kubelet or an operator to
 * find. Only regular files with exactly our name pattern are touched; symlinks are never followed.
 */
import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { join, sep } from 'node:path';
import { TEMPORARY_NAME } from '../host/atomic.js';
import type { HostPaths } from '../host/paths.js';

const MAX_DEPTH = 12;

function walk(dir: string, depth: number, found: string[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // missing or unreadable: nothing of ours to remove there
  }
  for (const name of names) {
    const path = join(dir, name);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory() && depth < MAX_DEPTH) walk(path, depth + 1, found);
    else if (st.isFile() && TEMPORARY_NAME.test(name)) found.push(path);
  }
}

/** The directories to sweep, without one nested in another (the PKI dir usually lies under the Kubernetes dir). */
function sweepRoots(paths: HostPaths): string[] {
  const dirs = [...new Set([paths.kubernetes, paths.pki, paths.manifests, paths.state])].sort();
  return dirs.filter((d) => !dirs.some((o) => o !== d && d.startsWith(o.endsWith(sep) ? o : o + sep)));
}

/** Remove every temporary file of ours; returns the paths removed. */
export function removeTemporaries(paths: HostPaths): string[] {
  const found: string[] = [];
  for (const dir of sweepRoots(paths)) walk(dir, 0, found);
  const removed: string[] = [];
  for (const file of found) {
    try {
      unlinkSync(file);
      removed.push(file);
    } catch {
      // gone already, or not ours to remove (read-only): the write that needs the name picks another
    }
  }
  return removed;
}
