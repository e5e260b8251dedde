/**
 * With --root, every path resolves under the root, as chroot would resolve it: absolute symlinks, a symlinked
 * directory, a symlinked state directory and a kubeconfig's relative ../../.. path never read or write outside it.
 * Decoys outside the root (in the host's /tmp) must stay untouched and unread.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, statusJson } from './helpers/cli.js';
import { expectSameTree, treeDigest } from './helpers/hostile.js';
import { useFixtureCopies } from './helpers/host-trees.js';
import { keyMatchesCert, readCert, verifyChain } from './helpers/openssl.js';

const trees = useFixtureCopies();
const NO_RESTART = 'restart:\n  enabled: false\n';
const PKI = 'etc/kubernetes/pki';
/** Host paths outside every root, removed after the file. */
const outside: string[] = [];
afterAll(() => {
  for (const p of outside) rmSync(p, { recursive: true, force: true });
});
function hostDecoyDir(): string {
  const dir = `/tmp/kcr-outside-${randomBytes(4).toString('hex')}`;
  outside.push(dir);
  return dir;
}

describe('--root keeps every path under the root', () => {
  it('an absolute symlink is followed under the root; the host file of that name is neither read nor written', () => {
    const root = trees.copy(NO_RESTART);
    const decoy = hostDecoyDir();
    // The host has a different certificate at the link's target path; the root has the real one.
    mkdirSync(decoy, { recursive: true });
    writeFileSync(join(decoy, 'apiserver.crt'), readFileSync(join(root, PKI, 'front-proxy-client.crt')));
    const decoyBefore = treeDigest(decoy);
    mkdirSync(join(root, decoy), { recursive: true });
    renameSync(join(root, PKI, 'apiserver.crt'), join(root, decoy, 'apiserver.crt'));
    symlinkSync(join(decoy, 'apiserver.crt'), join(root, PKI, 'apiserver.crt'));
    const serial = readCert(join(root, decoy, 'apiserver.crt')).serial;

    const { report } = statusJson(root);
    const apiserver = report.certificates.find((c) => c.name === 'apiserver');
    expect(apiserver?.state).toBe('present');
    expect(apiserver?.serial?.toUpperCase()).toBe(serial.toUpperCase());
    expect(apiserver?.problems).toEqual([]);

    const r = runCli(['--root', root, 'renew', 'apiserver']);
    expect(r.code, r.stderr).toBe(0);
    expectSameTree(decoyBefore, treeDigest(decoy));
    // The renewed certificate is in the root's file the link points to, and it pairs with the key.
    const renewed = join(root, decoy, 'apiserver.crt');
    expect(readCert(renewed).serial).not.toBe(serial);
    expect(keyMatchesCert(renewed, join(root, PKI, 'apiserver.key'))).toBe(true);
    expect(verifyChain(join(root, PKI, 'ca.crt'), renewed).ok).toBe(true);
  });

  it('a directory symlinked by absolute path (pki/etcd) resolves under the root', () => {
    const root = trees.copy(NO_RESTART);
    const decoy = hostDecoyDir();
    mkdirSync(decoy, { recursive: true });
    const etcd = join(root, PKI, 'etcd');
    cpSync(etcd, join(root, decoy), { recursive: true });
    rmSync(etcd, { recursive: true });
    symlinkSync(decoy, etcd);
    const { report } = statusJson(root);
    for (const name of ['etcd-server', 'etcd-peer', 'etcd-healthcheck-client']) {
      const c = report.certificates.find((x) => x.name === name);
      expect(c?.state, name).toBe('present');
      expect(c?.problems, name).toEqual([]);
    }
    expect(report.topology.localEtcd).toBe(true);
    const r = runCli(['--root', root, 'renew', 'etcd-server']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(decoy, 'server.crt')), 'nothing written on the host').toBe(false);
    expect(keyMatchesCert(join(root, decoy, 'server.crt'), join(root, decoy, 'server.key'))).toBe(true);
  });

  it('a state directory symlinked by absolute path: state, lock and backups are written under the root', () => {
    const root = trees.copy(NO_RESTART);
    const decoy = hostDecoyDir();
    mkdirSync(join(root, 'var/lib'), { recursive: true });
    rmSync(join(root, 'var/lib/kube-cert-renewer'), { recursive: true, force: true });
    symlinkSync(decoy, join(root, 'var/lib/kube-cert-renewer'));
    const r = runCli(['--root', root, 'renew', 'apiserver']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(decoy), `nothing created at ${decoy} on the host`).toBe(false);
    expect(existsSync(join(root, decoy, 'state.json'))).toBe(true);
    expect(existsSync(join(root, decoy, 'backups'))).toBe(true);
  });

  it("a kubeconfig's relative ../../.. path stops at the root", () => {
    const root = trees.copy(NO_RESTART);
    const decoy = hostDecoyDir();
    mkdirSync(decoy, { recursive: true });
    // On the host, the path the kubeconfig names holds a readable certificate and key.
    writeFileSync(join(decoy, 'client.crt'), readFileSync(join(root, PKI, 'apiserver-kubelet-client.crt')));
    writeFileSync(join(decoy, 'client.key'), readFileSync(join(root, PKI, 'apiserver-kubelet-client.key')));
    const up = '../'.repeat(12);
    const admin = join(root, 'etc/kubernetes/admin.conf');
    const text = readFileSync(admin, 'utf8')
      .replace(/client-certificate-data: .*/, `client-certificate: ${up}${decoy.slice(1)}/client.crt`)
      .replace(/client-key-data: .*/, `client-key: ${up}${decoy.slice(1)}/client.key`);
    writeFileSync(admin, text);
    const { report } = statusJson(root);
    const c = report.certificates.find((x) => x.name === 'admin.conf');
    expect(c?.serial, 'the host file was not read').toBeUndefined();
    expect(c?.problems.map((p) => p.file)).toContain(join(decoy, 'client.crt')); // the host path, read under the root
  });

  it('--root naming a directory that does not exist: exit 2, a clear message, nothing created', () => {
    const missing = hostDecoyDir();
    const r = runCli(['--root', missing, 'run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--root ${missing}: no such directory`);
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(existsSync(missing)).toBe(false);
  });
});
