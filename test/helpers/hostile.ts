/** Checks for hostile-input tests: a digest of a whole tree, and the private-key bytes no output may contain. */
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'vitest';

/** Every node under `dir` (files by sha256 and mode, symlinks by target, directories and FIFOs by type and mode). */
export function treeDigest(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const rel = relative(dir, p);
      const st = lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.set(rel, `link ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.set(rel, `dir ${mode}`);
        walk(p);
      } else if (st.isFile()) out.set(rel, `file ${mode} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
      else out.set(rel, `special ${mode}`);
    }
  };
  walk(dir);
  return out;
}

/** Expect two digests to be equal except for paths `allowed` accepts; names every difference. */
export function expectSameTree(before: Map<string, string>, after: Map<string, string>, allowed: (rel: string) => boolean = () => false): void {
  const changed: string[] = [];
  for (const rel of new Set([...before.keys(), ...after.keys()])) {
    if (before.get(rel) !== after.get(rel) && !allowed(rel)) changed.push(`${rel}: ${before.get(rel) ?? 'absent'} → ${after.get(rel) ?? 'absent'}`);
  }
  expect(changed, 'nothing else in the tree changed').toEqual([]);
}

const PRIVATE_BLOCK = /-----BEGIN ([A-Z ]*PRIVATE KEY)-----\r?\n([\s\S]*?)-----END \1-----/g;

function bodyLines(body: string): string[] {
  return body.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length >= 24 && !l.includes(':'));
}

/**
 * Fragments of every private key under `dir`: the base64 lines of PEM private keys (in files and in kubeconfigs'
 * client-key-data, decoded), and slices of the client-key-data values themselves.
 */
export function privateKeyFragments(dir: string): string[] {
  const out = new Set<string>();
  const scan = (text: string): void => {
    for (const m of text.matchAll(PRIVATE_BLOCK)) for (const l of bodyLines(m[2] ?? '')) out.add(l);
  };
  for (const [rel, digest] of treeDigest(dir)) {
    if (!digest.startsWith('file ')) continue;
    const buf = readFileSync(join(dir, rel));
    if (buf.length > 2 * 1024 * 1024) continue;
    const text = buf.toString('utf8');
    scan(text);
    for (const m of text.matchAll(/client-key-data:\s*"?([A-Za-z0-9+/=]{32,})/g)) {
      const value = m[1] as string;
      for (let i = 0; i + 32 <= value.length; i += 32) out.add(value.slice(i, i + 32));
      scan(Buffer.from(value, 'base64').toString('utf8'));
    }
  }
  return [...out];
}

/** No fragment of any private key of the tree appears in `output`. */
export function expectNoKeyBytes(output: string, fragments: string[]): void {
  expect(fragments.length, 'the tree holds private keys to look for').toBeGreaterThan(0);
  const leaked = fragments.filter((f) => output.includes(f));
  expect(leaked, 'no private-key bytes in any output').toEqual([]);
}
