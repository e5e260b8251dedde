// A digest of file trees inside a container, read from the host: path → type, mode, owner and sha256 of the
// content (or the link target). Two digests are equal only when every file is byte-identical.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export type TreeDigest = Map<string, string>;

export function digestTrees(root: string, paths: readonly string[]): TreeDigest {
  const out: TreeDigest = new Map();
  const walk = (inside: string): void => {
    let st;
    try {
      st = lstatSync(join(root, inside));
    } catch {
      out.set(inside, 'absent');
      return;
    }
    const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) out.set(inside, `link ${meta} -> ${readlinkSync(join(root, inside))}`);
    else if (st.isFile()) out.set(inside, `file ${meta} ${createHash('sha256').update(readFileSync(join(root, inside))).digest('hex')}`);
    else if (st.isDirectory()) {
      out.set(inside, `dir ${meta}`);
      for (const name of readdirSync(join(root, inside)).sort()) walk(join(inside, name));
    } else out.set(inside, `other ${meta}`);
  };
  for (const p of paths) walk(p);
  return out;
}

/** The paths whose digest differs, for an assertion message (empty when the trees are identical). */
export function treeChanges(before: TreeDigest, after: TreeDigest): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => before.get(k) !== after.get(k)).sort()
    .map((k) => `${k}: ${before.get(k) ?? 'absent'} → ${after.get(k) ?? 'absent'}`);
}
