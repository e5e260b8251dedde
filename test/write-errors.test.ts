/**
 * Full and read-only filesystems, for real: a tiny tmpfs filled to the last page, and a read-only bind mount (the
 * test runs as root and removes every mount it makes). The run must end with a message naming the path and what to
 * do, never "unexpected error" with a stack, and leave the certificates as they were (or finish the run later).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { expectSameTree, treeDigest } from './helpers/hostile.js';
import { useFixtureCopies } from './helpers/host-trees.js';
import { keyMatchesCert, readCert, verifyChain } from './helpers/openssl.js';

const trees = useFixtureCopies();
const NO_RESTART = 'restart:\n  enabled: false\n';
const PKI = 'etc/kubernetes/pki';
const STATE = 'var/lib/kube-cert-renewer';

function sh(cmd: string, args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

/** Whether this machine lets the test mount (root with CAP_SYS_ADMIN). */
const canMount = ((): boolean => {
  if (process.getuid?.() !== 0) return false;
  const dir = mkdtempSync(join(tmpdir(), 'kcr-mountprobe-'));
  try {
    if (sh('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]).status !== 0) return false;
    sh('umount', [dir]);
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();

/** Mount a tmpfs of `size` at `dir` with `dir`'s current content, then fill it to the last byte. */
function fullTmpfs(dir: string, size: string): void {
  const saved = mkdtempSync(join(tmpdir(), 'kcr-saved-'));
  cpSync(dir, saved, { recursive: true });
  expect(sh('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]).status).toBe(0);
  cpSync(saved, dir, { recursive: true });
  rmSync(saved, { recursive: true, force: true });
  const fill = sh('dd', ['if=/dev/zero', `of=${join(dir, '.fill')}`, 'bs=4096']);
  expect(fill.stderr).toMatch(/No space left on device/);
}

function umount(dir: string): void {
  sh('umount', [dir]);
}

const noStack = (out: string): void => {
  expect(out).not.toMatch(/unexpected error/);
  expect(out).not.toMatch(/\n\s+at [\w.<>]+ \(/);
};

describe.skipIf(!canMount)('full and read-only filesystems', () => {
  it('the state filesystem is full: the lock file is named, with what to do; nothing else changes', () => {
    const root = trees.copy(NO_RESTART);
    const state = join(root, STATE);
    mkdirSync(state, { recursive: true });
    fullTmpfs(state, '64k');
    try {
      const before = treeDigest(join(root, 'etc'));
      const r = runCli(['--root', root, 'renew', 'apiserver']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${join(state, 'lock')}: no space left on the filesystem holding it`);
      expect(r.stderr).toMatch(/free space on that filesystem/);
      noStack(r.stderr);
      expectSameTree(before, treeDigest(join(root, 'etc')));
    } finally {
      umount(state);
    }
  });

  it('the PKI filesystem is full: the file is named; the pair on disk still matches; the next run finishes it', () => {
    const root = trees.copy(NO_RESTART);
    const pki = join(root, PKI);
    const oldSerial = readCert(join(pki, 'apiserver.crt')).serial;
    fullTmpfs(pki, '256k');
    try {
      const before = treeDigest(pki);
      const r = runCli(['--root', root, '--log-format', 'text', 'renew', 'apiserver']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`${pki}/apiserver\\.(key|crt): no space left on the filesystem holding it`));
      noStack(r.stderr);
      expectSameTree(before, treeDigest(pki));
      expect(keyMatchesCert(join(pki, 'apiserver.crt'), join(pki, 'apiserver.key'))).toBe(true);

      // Space again: the next run rolls the staged renewal forward.
      rmSync(join(pki, '.fill'));
      const again = runCli(['--root', root, 'run']);
      expect(again.code, again.stderr).toBe(0);
      expect(readCert(join(pki, 'apiserver.crt')).serial).not.toBe(oldSerial);
      expect(keyMatchesCert(join(pki, 'apiserver.crt'), join(pki, 'apiserver.key'))).toBe(true);
      expect(verifyChain(join(pki, 'ca.crt'), join(pki, 'apiserver.crt')).ok).toBe(true);
    } finally {
      umount(pki);
    }
  });

  it('a read-only state directory: named, with what to do', () => {
    const root = trees.copy(NO_RESTART);
    const state = join(root, STATE);
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, 'state.json'), '{"kind":"RenewerState","entries":{}}\n');
    expect(sh('mount', ['--bind', state, state]).status).toBe(0);
    try {
      expect(sh('mount', ['-o', 'remount,ro,bind', state]).status).toBe(0);
      const before = treeDigest(root);
      const r = runCli(['--root', root, 'run']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${join(state, 'lock')}: is on a read-only filesystem`);
      expect(r.stderr).toMatch(/remount it read-write/);
      noStack(r.stderr);
      expectSameTree(before, treeDigest(root));
    } finally {
      umount(state);
    }
  });
});
