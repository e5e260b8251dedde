/**
 * Hostile files that used to hang a oneshot or lose data silently (issue 11, read side; issue 13's encrypted-key
 * message), each driven through the built CLI and checked with openssl and sha256.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from './helpers/cli.js';
import { expectSameTree, treeDigest } from './helpers/hostile.js';
import { useFixtureCopies } from './helpers/host-trees.js';
import { keyMatchesCert, readCert, verifyChain } from './helpers/openssl.js';

const trees = useFixtureCopies();
const NO_RESTART = 'restart:\n  enabled: false\n';
const PKI = 'etc/kubernetes/pki';

/** The CLI, killed after `limitMs`: a hang shows as a failure, not as a test timeout. */
function runBounded(args: string[], limitMs = 20_000): { code: number | null; killed: boolean; out: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8', timeout: limitMs, killSignal: 'SIGKILL', env: { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: '' },
  });
  return { code: r.status, killed: r.signal !== null, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, ms: Date.now() - t0 };
}

function mkfifo(path: string): void {
  rmSync(path, { force: true });
  const r = spawnSync('mkfifo', [path]);
  expect(r.status).toBe(0);
}

describe('a FIFO in place of a file is refused at once, naming it', () => {
  it.each([
    ['certificate', `${PKI}/apiserver.crt`, ['status'], 1],
    ['key', `${PKI}/apiserver.key`, ['status'], 1],
    ['kubeconfig', 'etc/kubernetes/admin.conf', ['status'], 1],
    ['config', 'etc/kube-cert-renewer/config.yaml', ['status'], 2],
    ['state file', 'var/lib/kube-cert-renewer/state.json', ['status'], 0],
  ] as const)('%s', (_what, rel, args, code) => {
    const root = trees.copy(NO_RESTART);
    mkdirSync(join(root, rel, '..'), { recursive: true });
    mkfifo(join(root, rel));
    const r = runBounded(['--root', root, ...args]);
    expect(r.killed, `still running after 20 s: ${r.out}`).toBe(false);
    expect(r.code, r.out).toBe(code);
    // reports and logs name host paths; a config error names the file as given (here the default under --root)
    const named = rel.startsWith('etc/kube-cert-renewer/') ? join(root, rel) : `/${rel}`;
    expect(r.out).toContain(`${named}: is a FIFO (named pipe), not a regular file`);
  });

  it('manifest: the restart fails at once naming it, and the renewal is rolled back', () => {
    const root = trees.copy('restart:\n  verify: false\n  verifyTimeout: 2s\n');
    const manifest = join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml');
    mkfifo(manifest);
    const before = treeDigest(join(root, PKI));
    const r = runBounded(['--root', root, 'renew', 'apiserver'], 60_000);
    expect(r.killed, `still running after 60 s: ${r.out}`).toBe(false);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain("/etc/kubernetes/manifests/kube-apiserver.yaml: is a FIFO (named pipe), not a regular file"); // host path
    expectSameTree(before, treeDigest(join(root, PKI)));
  });
});

describe('PEM files full of header lines', () => {
  const flood = (bytes: number): string => '-----BEGIN RSA PRIVATE KEY-----\n'.repeat(Math.ceil(bytes / 32));

  it('megabytes of BEGIN lines: refused by size, fast', () => {
    const root = trees.copy(NO_RESTART);
    const key = join(root, PKI, 'apiserver.key');
    writeFileSync(key, flood(4 * 1024 * 1024));
    const r = runBounded(['--root', root, 'status']);
    expect(r.killed, 'status hung on the file').toBe(false);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`/${PKI}/apiserver\\.key: is 4(\\.0)? MiB, larger than any valid file of its kind`)); // host path
    expect(r.ms).toBeLessThan(10_000);
  });

  it('just under the size limit: read in one linear pass, reported as damaged', () => {
    const root = trees.copy(NO_RESTART);
    const key = join(root, PKI, 'apiserver.key');
    writeFileSync(key, flood(1000 * 1024));
    const r = runBounded(['--root', root, 'status']);
    expect(r.killed, 'status hung on the file').toBe(false);
    expect(r.out).toContain(`/${PKI}/apiserver.key: the PEM data is truncated or damaged`); // host path
    expect(r.ms).toBeLessThan(10_000);
  });
});

describe('a kubeconfig that is a YAML alias bomb', () => {
  it('is refused in well under a second of parsing, naming the file; other entries still report', () => {
    const root = trees.copy(NO_RESTART);
    const file = join(root, 'etc/kubernetes/admin.conf');
    const lines = ['x-bomb:', '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    let prev = 'a';
    for (const n of 'bcdefghij') {
      lines.push(`  ${n}: &${n} [${Array(9).fill(`*${prev}`).join(',')}]`);
      prev = n;
    }
    writeFileSync(file, `${readFileSync(file, 'utf8')}${lines.join('\n')}\nx-more: *j\n`);
    const r = runBounded(['--root', root, 'status', '-o', 'json']);
    expect(r.killed, 'status hung on the alias bomb').toBe(false);
    expect(r.ms).toBeLessThan(10_000);
    const report = JSON.parse(r.out.slice(0, r.out.lastIndexOf('}') + 1)) as { certificates: Array<{ name: string; state: string; problems: Array<{ file: string; message: string }> }> };
    const admin = report.certificates.find((c) => c.name === 'admin.conf');
    expect(admin?.problems[0]?.file).toBe('/etc/kubernetes/admin.conf'); // host path
    expect(admin?.problems[0]?.message).toMatch(/aliases expand to more than 100000 nodes/);
    expect(report.certificates.find((c) => c.name === 'apiserver')?.state).toBe('present');
  });
});

describe('a certificate file holding a chain (leaf, then its CA)', () => {
  it('renews the leaf and keeps the chain that followed it byte for byte', () => {
    const root = trees.copy(NO_RESTART);
    const crt = join(root, PKI, 'apiserver.crt');
    const ca = join(root, PKI, 'ca.crt');
    const chain = `${readFileSync(ca, 'utf8')}`;
    const oldLeaf = readFileSync(crt, 'utf8');
    writeFileSync(crt, oldLeaf + chain);
    const r = runCli(['--root', root, 'renew', 'apiserver']);
    expect(r.code, r.stderr).toBe(0);
    const after = readFileSync(crt, 'utf8');
    const end = after.indexOf('-----END CERTIFICATE-----\n') + '-----END CERTIFICATE-----\n'.length;
    const newLeaf = after.slice(0, end);
    expect(after.slice(end), 'the chain after the leaf').toBe(chain);
    expect(readCert(newLeaf).serial).not.toBe(readCert(oldLeaf).serial);
    expect(verifyChain(ca, newLeaf).ok).toBe(true);
    expect(keyMatchesCert(newLeaf, join(root, PKI, 'apiserver.key'))).toBe(true);
  });
});

describe('renew NAME whose key file is missing', () => {
  it('issues a new key and certificate (repairs the entry), and rollback removes the key again', () => {
    const root = trees.copy(NO_RESTART);
    const key = join(root, PKI, 'apiserver.key');
    const crt = join(root, PKI, 'apiserver.crt');
    rmSync(key);
    const oldCert = readFileSync(crt, 'utf8');
    const r = runCli(['--root', root, 'renew', 'apiserver']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/ENOENT|unexpected error/);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(keyMatchesCert(crt, key)).toBe(true);
    expect(verifyChain(join(root, PKI, 'ca.crt'), crt).ok).toBe(true);
    expect(readCert(crt).serial).not.toBe(readCert(oldCert).serial);
    const back = runCli(['--root', root, 'rollback']);
    expect(back.code, back.stderr).toBe(0);
    expect(readFileSync(crt, 'utf8')).toBe(oldCert);
    expect(existsSync(key), 'the key did not exist before the run').toBe(false);
  });
});

describe('a CA that cannot be used is reported once, naming its file', () => {
  it.each([
    ['ca.crt missing', (root: string) => rmSync(join(root, PKI, 'ca.crt')), 'ca.crt: does not exist'],
    ['ca.key not matching', (root: string) => writeFileSync(join(root, PKI, 'ca.key'), readFileSync(join(root, PKI, 'front-proxy-ca.key'))), 'ca.key: does not match'],
  ] as const)('%s', (_what, damage, says) => {
    const root = trees.copy(NO_RESTART);
    damage(root);
    chmodSync(join(root, PKI), 0o755);
    const r = runCli(['--root', root, '--log-format', 'text', 'renew', '--all']);
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.includes(says));
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(`CA: /${PKI}/`); // the host path, not the one under --root
    expect(lines[0]).toMatch(/not renewed because of it: admin\.conf, apiserver, apiserver-kubelet-client, controller-manager\.conf/);
    expect(r.stderr).not.toMatch(/its CA cannot be used/);
    // The entries of the other CAs were renewed.
    expect(r.stderr).toMatch(/renewed front-proxy-client/);
  });
});
