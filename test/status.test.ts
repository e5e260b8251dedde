/**
 * `status` on every fixture variant, compared with what openssl reads from the same files; and bad inputs, each
 * reported by file while every other entry is still reported.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, type FixtureOptions } from './helpers/kubeadm-fixture.js';
import { useTrees } from './helpers/host-trees.js';
import { readCert } from './helpers/openssl.js';
import { type StatusJson, copyTree, runCli, snapshotFiles, statusJson, writeConfig } from './helpers/cli.js';

const CA_BY_ISSUER_CN: Record<string, string> = { kubernetes: 'ca', 'front-proxy-ca': 'front-proxy-ca', 'etcd-ca': 'etcd-ca' };
const trees = useTrees('kcr-status-');
const tree = (options: FixtureOptions): Promise<Fixture> => trees.make(options);

/** Every present entry of the report agrees with openssl on expiry, serial, subject and CA. */
function expectMatchesOpenssl(report: StatusJson, fx: Fixture): void {
  const present = report.certificates.filter((c) => c.state === 'present');
  expect(present.length).toBeGreaterThan(0);
  for (const c of present) {
    const fixtureEntry = fx.entry(c.name);
    const info = readCert(fixtureEntry.certPath.endsWith('.conf') ? extractPem(fixtureEntry.certPath) : fixtureEntry.certPath);
    expect(new Date(c.notAfter as string).getTime(), `${c.name} notAfter`).toBe(info.notAfter.getTime());
    expect(new Date(c.notBefore as string).getTime(), `${c.name} notBefore`).toBe(info.notBefore.getTime());
    expect(c.serial, `${c.name} serial`).toBe(info.serial);
    expect(c.subject, `${c.name} subject`).toBe(info.subject);
    expect(c.certificateAuthority, `${c.name} CA`).toBe(CA_BY_ISSUER_CN[info.issuerAttrs?.CN?.[0] ?? /CN=([^,]+)/.exec(info.issuer)?.[1] ?? '']);
    expect([...(c.dnsNames ?? [])].sort(), `${c.name} DNS SANs`).toEqual([...info.sanDNS].sort());
    expect([...(c.ipAddresses ?? [])].sort(), `${c.name} IP SANs`).toEqual([...info.sanIP].sort());
    expect(c.key?.bits, `${c.name} key bits`).toBe(info.keyBits);
  }
  for (const ca of report.certificateAuthorities.filter((x) => x.state === 'present')) {
    const info = readCert(fx.entry(ca.name).certPath);
    expect(new Date(ca.notAfter as string).getTime()).toBe(info.notAfter.getTime());
    expect(ca.serial).toBe(info.serial);
  }
}

function extractPem(kubeconfig: string): string {
  const text = readFileSync(kubeconfig, 'utf8');
  const data = /client-certificate-data: (\S+)/.exec(text)?.[1];
  if (!data) throw new Error(`${kubeconfig}: no embedded certificate`);
  return Buffer.from(data, 'base64').toString('utf8');
}

describe('status on every fixture variant matches openssl', () => {
  it.each<[string, FixtureOptions]>([
    ['default (RSA-2048, PKCS#1, new-style notBefore)', {}],
    ['ECDSA P-256', { keyAlgorithm: 'ecdsa-p256' }],
    ['PKCS#8 keys', { keyEncoding: 'pkcs8' }],
    ['old-style notBefore (the CA’s)', { notBeforeStyle: 'ca', issuedDaysAgo: 40 }],
    ['embedded kubelet.conf', { kubeletConf: 'embedded' }],
    ['RSA-4096', { keyAlgorithm: 'rsa4096' }],
  ])('%s', async (_, options) => {
    const fx = await tree(options);
    const { code, report, stderr } = statusJson(fx.root);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(report).toMatchObject({ apiVersion: 'kube-cert-renewer.io/v1alpha1', kind: 'CertificateStatus' });
    expect(report.summary.healthy).toBe(true);
    expect(report.certificates.map((c) => c.name)).toHaveLength(12);
    expectMatchesOpenssl(report, fx);
    for (const c of report.certificates) {
      expect(c.problems, c.name).toEqual([]);
      expect(c.key?.matchesCertificate, c.name).toBe(true);
      expect(c.signedByCA, c.name).toBe(true);
    }
    if (options.keyEncoding === 'pkcs8') expect(report.certificates.find((c) => c.name === 'apiserver')?.key?.encoding).toBe('pkcs8');
    if (options.keyAlgorithm === 'ecdsa-p256') expect(report.certificates.find((c) => c.name === 'apiserver')?.key).toMatchObject({ algorithm: 'ECDSA', bits: 256, encoding: 'sec1' });
    const kubelet = report.certificates.find((c) => c.name === 'kubelet.conf');
    expect(kubelet?.managedBy).toBe(options.kubeletConf === 'embedded' ? 'kube-cert-renewer' : 'kubelet');
  });

  it('old-style notBefore: the issue date is derived, not read from notBefore', async () => {
    const fx = await tree({ notBeforeStyle: 'ca', issuedDaysAgo: 5 });
    writeConfig(fx.root, 'renewInterval: 30d\n');
    const { report } = statusJson(fx.root);
    const apiserver = report.certificates.find((c) => c.name === 'apiserver');
    expect(apiserver?.notBefore).toBe(fx.dates.caNotBefore.toISOString().replace('.000', ''));
    expect(apiserver?.issuedAtSource).toBe('kubeadm-legacy');
    expect(Math.abs(new Date(apiserver?.issuedAt ?? 0).getTime() - fx.dates.issuedAt.getTime())).toBeLessThan(2_000);
    expect(apiserver?.due).toBe(false);
  });

  it('expired leaves: reported, due, exit 1', async () => {
    const fx = await tree({ expired: true });
    const { code, report } = statusJson(fx.root);
    expect(code).toBe(1);
    expectMatchesOpenssl(report, fx);
    const leaves = report.certificates.filter((c) => c.state === 'present');
    expect(leaves.every((c) => c.expired)).toBe(true);
    expect(leaves.filter((c) => c.managedBy === 'kube-cert-renewer').every((c) => c.due && c.reasons.includes('expired'))).toBe(true);
    const table = runCli(['--root', fx.root, 'status']);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/^apiserver\s+\w{3} \d\d, \d{4} \d\d:\d\d UTC\s+<invalid>\s+ca\s+no/m);
  });

  it('external CA: its leaves are reported as externally managed, not due for us, not errors', async () => {
    const fx = await tree({ externalCA: true, expired: true });
    const { code, report } = statusJson(fx.root);
    expectMatchesOpenssl(report, fx);
    expect(report.certificateAuthorities.find((c) => c.name === 'ca')).toMatchObject({ externallyManaged: true, problems: [] });
    const apiserver = report.certificates.find((c) => c.name === 'apiserver');
    expect(apiserver).toMatchObject({ externallyManaged: true, renewable: false, blocker: 'external-ca', problems: [] });
    expect(report.certificates.find((c) => c.name === 'front-proxy-client')).toMatchObject({ externallyManaged: false, renewable: true });
    expect(code).toBe(1); // expired certificates are still expired
    const table = runCli(['--root', fx.root, 'status']).stdout;
    expect(table).toMatch(/^apiserver\s+.*\s+ca\s+yes\s/m);
    expect(table).toMatch(/^ca\s+.*\s+yes\s+no$/m); // EXTERNALLY MANAGED yes, ROTATE no
  });

  it('external etcd: no etcd entries at all', async () => {
    const fx = await tree({ externalEtcd: true });
    const { code, report } = statusJson(fx.root);
    expect(code).toBe(0);
    expect(report.topology.localEtcd).toBe(false);
    expect(report.certificates.map((c) => c.name)).not.toContain('etcd-server');
    expect(report.certificates.map((c) => c.name)).not.toContain('apiserver-etcd-client');
    expect(report.certificateAuthorities.map((c) => c.name)).toEqual(['ca', 'front-proxy-ca']);
    expectMatchesOpenssl(report, fx);
  });

  it('joined node: super-admin.conf missing is normal, never due', async () => {
    const fx = await tree({ joinedNode: true, notBeforeStyle: 'ca', issuedDaysAgo: 100 });
    writeConfig(fx.root, 'renewInterval: 30d\n');
    const { code, report } = statusJson(fx.root);
    expect(code).toBe(0);
    expect(report.certificates.find((c) => c.name === 'super-admin.conf')).toMatchObject({ state: 'missing', optional: true, due: false, problems: [] });
    expect(report.certificates.find((c) => c.name === 'admin.conf')).toMatchObject({ due: true, reasons: ['interval'] });
    expect(runCli(['--root', fx.root, 'status']).stdout).toMatch(/^super-admin\.conf\s+\(not present\)/m);
  });
});

describe('bad inputs: a clear message naming the file, every other entry still reported', () => {
  let base: Fixture;
  beforeAll(async () => {
    base = await tree({});
  });

  function broken(mutate: (root: string) => void): { root: string; code: number; report: StatusJson; table: string } {
    const root = copyTree(base.root);
    trees.track(root);
    mutate(root);
    const before = snapshotFiles(root);
    const { code, report } = statusJson(root);
    const table = runCli(['--root', root, 'status']).stdout.replace(/\n {6}/g, ' '); // problems wrap at 120 columns
    expect(snapshotFiles(root)).toEqual(before); // status never writes
    return { root, code, report, table };
  }

  function expectOthersFine(report: StatusJson, except: string): void {
    const others = report.certificates.filter((c) => c.name !== except);
    expect(others).toHaveLength(11);
    for (const c of others) {
      expect(c.state, c.name).toBe('present');
      expect(c.problems, c.name).toEqual([]);
    }
  }

  it('a truncated PEM certificate', () => {
    const { root, code, report, table } = broken((r) => {
      const f = join(r, 'etc/kubernetes/pki/apiserver.crt');
      const pem = readFileSync(f, 'utf8');
      writeFileSync(f, pem.slice(0, Math.floor(pem.length / 2)));
    });
    expect(code).toBe(1);
    const file = '/etc/kubernetes/pki/apiserver.crt'; // status reports host paths
    expect(report.certificates.find((c) => c.name === 'apiserver')).toMatchObject({ state: 'unreadable', problems: [{ code: 'unreadable', file }] });
    expect(report.problems[0]?.message).toMatch(/truncated or damaged/);
    expect(table).toContain(`apiserver: ${file}: holds a truncated or damaged PEM certificate`);
    expectOthersFine(report, 'apiserver');
  });

  it('a key that does not match its certificate', () => {
    const { root, code, report, table } = broken((r) => {
      const pki = join(r, 'etc/kubernetes/pki');
      writeFileSync(join(pki, 'apiserver-kubelet-client.key'), readFileSync(join(pki, 'front-proxy-client.key')));
    });
    expect(code).toBe(1);
    const file = '/etc/kubernetes/pki/apiserver-kubelet-client.key'; // status reports host paths
    expect(report.certificates.find((c) => c.name === 'apiserver-kubelet-client')).toMatchObject({
      state: 'present', key: { matchesCertificate: false }, problems: [{ code: 'key-mismatch', file }],
    });
    expect(table).toContain(`apiserver-kubelet-client: ${file}: does not match the certificate`);
    expectOthersFine(report, 'apiserver-kubelet-client');
  });

  it('a certificate not signed by its CA', () => {
    const { root, code, report, table } = broken((r) => {
      const pki = join(r, 'etc/kubernetes/pki');
      // Same subject and key, signed by a stranger CA made with openssl.
      const strangerKey = join(r, 'stranger.key');
      const strangerCrt = join(r, 'stranger.crt');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', strangerKey, '-out', strangerCrt, '-subj', '/CN=front-proxy-ca', '-days', '3650'], { stdio: 'pipe' });
      const csr = execFileSync('openssl', ['req', '-new', '-key', join(pki, 'front-proxy-client.key'), '-subj', '/CN=front-proxy-client'], { stdio: 'pipe' });
      // kubeadm's identity for front-proxy-client (clientAuth), so the one problem is the signature
      const ext = join(r, 'stranger.ext');
      writeFileSync(ext, 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n');
      const crt = execFileSync('openssl', ['x509', '-req', '-CA', strangerCrt, '-CAkey', strangerKey, '-set_serial', '7', '-days', '300', '-extfile', ext], { input: csr, stdio: ['pipe', 'pipe', 'pipe'] });
      writeFileSync(join(pki, 'front-proxy-client.crt'), crt);
      unlinkSync(ext);
      unlinkSync(strangerKey);
      unlinkSync(strangerCrt);
    });
    expect(code).toBe(1);
    const file = '/etc/kubernetes/pki/front-proxy-client.crt'; // status reports host paths
    expect(report.certificates.find((c) => c.name === 'front-proxy-client')).toMatchObject({
      signedByCA: false, key: { matchesCertificate: true }, problems: [{ code: 'not-signed-by-ca', file }],
    });
    expect(table).toContain(`front-proxy-client: ${file}: is not signed by the front-proxy-ca CA`);
    expectOthersFine(report, 'front-proxy-client');
  });

  it('a kubeconfig that is not YAML', () => {
    const { root, code, report, table } = broken((r) => {
      writeFileSync(join(r, 'etc/kubernetes/scheduler.conf'), 'apiVersion: v1\nclusters: [\n  - {name: x\nusers: ][\n');
    });
    expect(code).toBe(1);
    const file = '/etc/kubernetes/scheduler.conf'; // status reports host paths
    expect(report.certificates.find((c) => c.name === 'scheduler.conf')).toMatchObject({ state: 'unreadable', problems: [{ code: 'kubeconfig-invalid', file }] });
    expect(table).toMatch(new RegExp(`scheduler\\.conf: ${file.replace(/[.]/g, '\\.')}: is not a valid kubeconfig: .* at line \\d+`));
    expectOthersFine(report, 'scheduler.conf');
  });

  it('a kubeconfig whose referenced certificate file is missing', () => {
    let target = '';
    const { code, report, table } = broken((r) => {
      const link = join(r, 'var/lib/kubelet/pki/kubelet-client-current.pem');
      const dest = readlinkSync(link);
      const onDisk = dest.startsWith('/') ? join(r, dest) : join(r, 'var/lib/kubelet/pki', dest);
      expect(existsSync(onDisk)).toBe(true);
      unlinkSync(onDisk);
      target = `/${relative(r, onDisk)}`; // status reports host paths
    });
    expect(code).toBe(1);
    const kubelet = report.certificates.find((c) => c.name === 'kubelet.conf');
    expect(kubelet).toMatchObject({ state: 'unreadable', problems: [{ code: 'referenced-file-missing', file: target }] });
    expect(kubelet?.problems[0]?.message).toMatch(/referenced by client-certificate in .*kubelet\.conf/);
    expect(table).toContain(`kubelet.conf: ${target}: does not exist`);
    expectOthersFine(report, 'kubelet.conf');
  });

  it('a config with an unknown key: exit 2, message names file and key, nothing written', () => {
    const root = copyTree(base.root);
    trees.track(root);
    const config = writeConfig(root, 'renewInterval: 30d\nrestart:\n  verifyTimout: 5m\n');
    const before = snapshotFiles(root);
    for (const cmd of [['status'], ['run'], ['plan']]) {
      const r = runCli(['--root', root, ...cmd]);
      expect(r.code, cmd.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`${config}: restart.verifyTimout: unknown key`);
      expect(r.stderr).toContain('known keys under restart: enabled, annotation, verify, verifyTimeout, mode, reloadBudget, quorumGuard, quorumWait, clusterLock, lockWait, lockTTL');
    }
    expect(snapshotFiles(root)).toEqual(before);
    const missing = runCli(['--root', root, '--config', join(root, 'nope.yaml'), 'status']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${join(root, 'nope.yaml')}: does not exist`);
  });

  it('usage errors exit 2', () => {
    expect(runCli(['frobnicate']).code).toBe(2);
    expect(runCli(['status', '--bogus']).code).toBe(2);
    expect(runCli(['--root', base.root, 'status', '-o', 'yaml']).stderr).toMatch(/--output "yaml": use table, wide or json/);
    expect(runCli(['--version']).stdout).toMatch(/^kube-cert-renewer \d+\.\d+\.\d+/);
    expect(runCli(['--help']).stdout).toContain('Commands:');
  });
});


