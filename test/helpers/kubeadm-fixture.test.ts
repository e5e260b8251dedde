// Tests of the fixture generator and the openssl helpers, checked with the openssl CLI.
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBELET_CLIENT_CURRENT, createKubeadmTree, extractKubeconfigCredentials } from './kubeadm-fixture.js';
import type { Fixture, FixtureEntry, FixtureOptions } from './kubeadm-fixture.js';
import { yamlScalar } from './manifests.js';
import {
  expectKeyMatches,
  expectSameIdentity,
  expectSignedBy,
  keyInfo,
  keyMatchesCert,
  parseRfc2253,
  publicKeyOfKey,
  readCert,
  verifyChain,
} from './openssl.js';

const NOW = new Date('2025-06-15T12:34:56.789Z');
const NOW_S = new Date('2025-06-15T12:34:56.000Z');
const DAY = 86_400_000;
const FIVE_MIN = 300_000;

// Trees marked `reuse` share keys per entry name (reuseKeys) to save RSA keygen time; default, ecdsa, pkcs8, ipv6
// and rsa4096 get fresh keys, so cross-tree "foreign key / foreign CA" checks use those.
const reuse = { reuseKeys: true } as const;
const variants = {
  default: {},
  ecdsa: { keyAlgorithm: 'ecdsa-p256' },
  pkcs8: { keyEncoding: 'pkcs8' },
  caStyle: { ...reuse, notBeforeStyle: 'ca', issuedDaysAgo: 30, caIssuedDaysAgo: 1000 },
  expired: { ...reuse, expired: true },
  externalCA: { ...reuse, externalCA: true },
  externalEtcd: { ...reuse, externalEtcd: true },
  joined: { ...reuse, joinedNode: true },
  embeddedKubelet: { ...reuse, kubeletConf: 'embedded' },
  custom: {
    ...reuse,
    hostname: 'node-a.example',
    advertiseAddress: '127.0.0.2',
    serviceVIP: '10.100.0.1',
    serviceSubnet: '10.100.0.0/16',
    clusterAdminsGroup: 'system:masters',
    ports: { apiserver: 16443, etcdClient: 12379, etcdPeer: 12380, etcdMetrics: 12381, controllerManager: 20257, scheduler: 20259 },
  },
  // the smallest tree (11 keys): RSA-4096 keygen costs seconds a key
  rsa4096: { keyAlgorithm: 'rsa4096', externalEtcd: true, joinedNode: true },
  ipv6: { keyAlgorithm: 'ecdsa-p256', advertiseAddress: '::1' },
} satisfies Record<string, FixtureOptions>;
type Variant = keyof typeof variants;

let base = '';
const trees = {} as Record<Variant, Fixture>;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'kcr-fixture-test-'));
  // one shared process pool: building every tree at once keeps both cores busy
  await Promise.all(
    (Object.keys(variants) as Variant[]).map(async (v) => {
      trees[v] = await createKubeadmTree(join(base, v), { now: NOW, ...variants[v] });
    }),
  );
}, 300_000);

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

const mode = (p: string): number => statSync(p).mode & 0o777;
const hp = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

interface Credentials {
  cert: string; // path or PEM
  key?: string;
}

function credentials(fx: Fixture, e: FixtureEntry): Credentials {
  if (e.kind !== 'kubeconfig') return { cert: e.certPath, ...(e.keyPath ? { key: e.keyPath } : {}) };
  const c = extractKubeconfigCredentials(e.kubeconfigPath ?? '', fx.root);
  return { cert: c.certPem, key: c.keyPem };
}

function caOf(fx: Fixture, e: FixtureEntry): string {
  return e.kind === 'ca' ? e.certPath : fx.entry(e.caName ?? '').certPath;
}

function loadYaml(path: string): Record<string, any> {
  return yaml.load(readFileSync(path, 'utf8')) as Record<string, any>;
}

function command(fx: Fixture, manifest: string): string[] {
  return loadYaml(join(fx.manifestsDir, manifest))['spec']['containers'][0]['command'] as string[];
}

function flag(cmd: string[], name: string): string | undefined {
  return cmd.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const STACKED = ['ca', 'front-proxy-ca', 'etcd-ca', 'apiserver', 'apiserver-kubelet-client', 'front-proxy-client',
  'apiserver-etcd-client', 'etcd-server', 'etcd-peer', 'etcd-healthcheck-client',
  'admin.conf', 'super-admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubelet.conf'];

describe.each(Object.keys(variants) as Variant[])('tree %s', (v) => {
  it('every entry chains to its CA, its key matches, and files carry kubeadm modes', () => {
    const fx = trees[v];
    expect(mode(fx.pkiDir)).toBe(0o755);
    for (const e of fx.entries) {
      const { cert, key } = credentials(fx, e);
      expectSignedBy(caOf(fx, e), cert, { ignoreTime: true, strict: true });
      if (key) expectKeyMatches(cert, key);
      else expect(e.name === 'ca' && fx.options.externalCA, `${e.name} has no key`).toBe(true);
      const info = readCert(cert);
      expect(info.notBefore, `${e.name} notBefore`).toEqual(e.notBefore);
      expect(info.notAfter, `${e.name} notAfter`).toEqual(e.notAfter);
      expect(info.isCA).toBe(e.kind === 'ca');
      if (e.kind === 'kubeconfig') {
        expect(mode(e.kubeconfigPath ?? ''), e.name).toBe(0o600);
      } else {
        expect(mode(e.certPath), e.name).toBe(0o644);
        if (e.keyPath) expect(mode(e.keyPath), e.name).toBe(0o600);
      }
    }
    expect(mode(fx.saKeyPath)).toBe(0o600);
    expect(mode(fx.saPubPath)).toBe(0o644);
  });

  it('uses the requested key algorithm and encoding everywhere (sa.key always traditional)', () => {
    const fx = trees[v];
    const alg = fx.options.keyAlgorithm;
    const wanted = alg === 'ecdsa-p256' ? { algorithm: 'EC', bits: 256, curve: 'prime256v1' } : { algorithm: 'RSA', bits: alg === 'rsa4096' ? 4096 : 2048 };
    const traditional = alg === 'ecdsa-p256' ? 'sec1' : 'pkcs1';
    for (const e of fx.entries) {
      const { cert, key } = credentials(fx, e);
      const c = readCert(cert);
      expect(c.keyBits, e.name).toBe(wanted.bits);
      expect(c.signatureAlgorithm, e.name).toBe(alg === 'ecdsa-p256' ? 'ecdsa-with-SHA256' : 'sha256WithRSAEncryption');
      if (key) expect(keyInfo(key), e.name).toEqual({ ...wanted, encoding: fx.options.keyEncoding === 'pkcs8' ? 'pkcs8' : traditional });
    }
    expect(keyInfo(fx.saKeyPath)).toEqual({ ...wanted, encoding: traditional });
    expect(readFileSync(fx.saPubPath, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(readFileSync(fx.saPubPath, 'utf8')).toBe(publicKeyOfKey(fx.saKeyPath));
  });

  it('writes parseable manifests whose ports match the options', () => {
    const fx = trees[v];
    const { ports, advertiseAddress: adv } = fx.options;
    const files = readdirSync(fx.manifestsDir).sort();
    expect(files).toEqual(fx.options.externalEtcd
      ? ['kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']
      : ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']);
    for (const f of files) {
      const pod = loadYaml(join(fx.manifestsDir, f));
      expect(pod['kind']).toBe('Pod');
      expect(pod['metadata']['creationTimestamp']).toBeNull();
      expect(pod['metadata']['namespace']).toBe('kube-system');
      expect(pod['status']).toEqual({});
      expect(mode(join(fx.manifestsDir, f))).toBe(0o600);
    }
    const api = loadYaml(join(fx.manifestsDir, 'kube-apiserver.yaml'));
    expect(api['metadata']['annotations']['kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint']).toBe(hp(adv, ports.apiserver));
    const apiCmd = command(fx, 'kube-apiserver.yaml');
    expect(flag(apiCmd, 'secure-port')).toBe(String(ports.apiserver));
    expect(flag(apiCmd, 'advertise-address')).toBe(adv);
    expect(api['spec']['containers'][0]['livenessProbe']['httpGet']).toMatchObject({ host: adv, port: ports.apiserver, scheme: 'HTTPS' });
    expect(api['spec']['volumes']).toContainEqual({ hostPath: { path: '/etc/kubernetes/pki', type: 'DirectoryOrCreate' }, name: 'k8s-certs' });
    const cm = loadYaml(join(fx.manifestsDir, 'kube-controller-manager.yaml'))['spec']['containers'][0];
    expect(cm['livenessProbe']['httpGet']['port']).toBe(ports.controllerManager);
    expect(flag(cm['command'], 'secure-port')).toBe(ports.controllerManager === 10257 ? undefined : String(ports.controllerManager));
    for (const k of ['kubeconfig', 'authentication-kubeconfig', 'authorization-kubeconfig']) expect(flag(cm['command'], k)).toBe('/etc/kubernetes/controller-manager.conf');
    const sched = loadYaml(join(fx.manifestsDir, 'kube-scheduler.yaml'))['spec']['containers'][0];
    expect(sched['startupProbe']['httpGet']['port']).toBe(ports.scheduler);
    expect(flag(sched['command'], 'secure-port')).toBe(ports.scheduler === 10259 ? undefined : String(ports.scheduler));
    expect(flag(sched['command'], 'kubeconfig')).toBe('/etc/kubernetes/scheduler.conf');
    if (fx.options.externalEtcd) return;
    expect(flag(apiCmd, 'etcd-servers')).toBe(`https://127.0.0.1:${ports.etcdClient}`);
    const etcd = loadYaml(join(fx.manifestsDir, 'etcd.yaml'));
    const etcdCmd = etcd['spec']['containers'][0]['command'] as string[];
    expect(etcd['metadata']['annotations']['kubeadm.kubernetes.io/etcd.advertise-client-urls']).toBe(`https://${hp(adv, ports.etcdClient)}`);
    expect(flag(etcdCmd, 'listen-client-urls')).toBe([...new Set([`https://127.0.0.1:${ports.etcdClient}`, `https://${hp(adv, ports.etcdClient)}`])].join(','));
    expect(flag(etcdCmd, 'listen-peer-urls')).toBe(`https://${hp(adv, ports.etcdPeer)}`);
    expect(flag(etcdCmd, 'initial-cluster')).toBe(`${fx.options.hostname}=https://${hp(adv, ports.etcdPeer)}`);
    expect(flag(etcdCmd, 'listen-metrics-urls')).toBe(`http://127.0.0.1:${ports.etcdMetrics}`);
    expect(etcd['spec']['containers'][0]['livenessProbe']['httpGet']).toMatchObject({ host: '127.0.0.1', port: ports.etcdMetrics, scheme: 'HTTP' });
  });

  it('writes kubeconfigs in client-go layout pointing at the apiserver', () => {
    const fx = trees[v];
    const server = `https://${hp(fx.options.advertiseAddress, fx.options.ports.apiserver)}`;
    for (const e of fx.entries.filter((x) => x.kind === 'kubeconfig')) {
      const kc = loadYaml(e.kubeconfigPath ?? '');
      expect(Object.keys(kc)).toEqual(['apiVersion', 'clusters', 'contexts', 'current-context', 'kind', 'preferences', 'users']);
      expect(kc['clusters'][0]['cluster']['server']).toBe(server);
      const caPem = Buffer.from(kc['clusters'][0]['cluster']['certificate-authority-data'], 'base64').toString();
      expect(caPem).toBe(readFileSync(fx.entry('ca').certPath, 'utf8'));
      expect(kc['contexts'][0]['name']).toBe(kc['current-context']);
      const user = kc['users'][0]['user'];
      if (e.credentials === 'embedded') {
        expect(Object.keys(user)).toEqual(['client-certificate-data', 'client-key-data']);
        expect(kc['current-context']).toBe(`${readCert(credentials(fx, e).cert).subjectAttrs['CN']?.[0]}@kubernetes`);
      } else {
        expect(user).toEqual({ 'client-certificate': KUBELET_CLIENT_CURRENT, 'client-key': KUBELET_CLIENT_CURRENT });
      }
    }
  });
});

describe('default tree', () => {
  it('holds exactly the kubeadm entries at kubeadm paths', () => {
    const fx = trees.default;
    expect(fx.entries.map((e) => e.name).sort()).toEqual([...STACKED].sort());
    const rel = (p: string | undefined) => p?.slice(fx.root.length);
    expect(rel(fx.entry('etcd-peer').certPath)).toBe('/etc/kubernetes/pki/etcd/peer.crt');
    expect(rel(fx.entry('etcd-ca').keyPath)).toBe('/etc/kubernetes/pki/etcd/ca.key');
    expect(rel(fx.entry('admin.conf').kubeconfigPath)).toBe('/etc/kubernetes/admin.conf');
    expect(fx.entry('front-proxy-client').caName).toBe('front-proxy-ca');
    expect(fx.entry('etcd-healthcheck-client').caName).toBe('etcd-ca');
    expect(() => fx.entry('nope')).toThrow(/no entry nope/);
  });

  it.each([
    ['ca', 'CN=kubernetes', [], []],
    ['front-proxy-ca', 'CN=front-proxy-ca', [], []],
    ['etcd-ca', 'CN=etcd-ca', [], []],
    ['apiserver', 'CN=kube-apiserver', ['TLS Web Server Authentication'], []],
    ['apiserver-kubelet-client', 'CN=kube-apiserver-kubelet-client,O=kubeadm:cluster-admins', ['TLS Web Client Authentication'], []],
    ['front-proxy-client', 'CN=front-proxy-client', ['TLS Web Client Authentication'], []],
    ['apiserver-etcd-client', 'CN=kube-apiserver-etcd-client', ['TLS Web Client Authentication'], []],
    ['etcd-server', 'CN=cp-1', ['TLS Web Server Authentication', 'TLS Web Client Authentication'], ['cp-1', 'localhost']],
    ['etcd-peer', 'CN=cp-1', ['TLS Web Server Authentication', 'TLS Web Client Authentication'], ['cp-1', 'localhost']],
    ['etcd-healthcheck-client', 'CN=kube-etcd-healthcheck-client', ['TLS Web Client Authentication'], []],
    ['admin.conf', 'CN=kubernetes-admin,O=kubeadm:cluster-admins', ['TLS Web Client Authentication'], []],
    ['super-admin.conf', 'CN=kubernetes-super-admin,O=system:masters', ['TLS Web Client Authentication'], []],
    ['controller-manager.conf', 'CN=system:kube-controller-manager', ['TLS Web Client Authentication'], []],
    ['scheduler.conf', 'CN=system:kube-scheduler', ['TLS Web Client Authentication'], []],
    ['kubelet.conf', 'CN=system:node:cp-1,O=system:nodes', ['TLS Web Client Authentication'], []],
  ])('%s has subject %s and kubeadm extensions', (name, subject, eku, dns) => {
    const fx = trees.default;
    const e = fx.entry(name);
    const c = readCert(credentials(fx, e).cert);
    expect(c.subject).toBe(subject);
    expect(c.extKeyUsage).toEqual(eku);
    if (name !== 'apiserver') expect(c.sanDNS).toEqual(dns);
    expect(c.publicKeyAlgorithm).toBe('rsaEncryption');
    expect(c.criticalExtensions).toEqual(['X509v3 Key Usage', 'X509v3 Basic Constraints']);
    if (e.kind === 'ca') {
      expect(c.issuer).toBe(c.subject);
      expect(c.keyUsage).toEqual(['Digital Signature', 'Key Encipherment', 'Certificate Sign']);
      expect(c.extensions).toEqual(['X509v3 Key Usage', 'X509v3 Basic Constraints', 'X509v3 Subject Key Identifier']);
    } else {
      const ca = readCert(caOf(fx, e));
      expect(c.issuer).toBe(ca.subject);
      expect(c.keyUsage).toEqual(['Digital Signature', 'Key Encipherment']);
      expect(c.subjectKeyId).toBeUndefined();
      expect(c.authorityKeyId).toBe(ca.subjectKeyId);
      expect(c.authorityKeyId).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    }
  });

  it('gives the apiserver and etcd kubeadm SANs (deduplicated loopback)', () => {
    const fx = trees.default;
    const api = readCert(fx.entry('apiserver').certPath);
    expect(api.sanDNS).toEqual(['cp-1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local']);
    expect(api.sanIP).toEqual(['10.96.0.1', '127.0.0.1']);
    expect(readCert(fx.entry('etcd-server').certPath).sanIP).toEqual(['127.0.0.1', '::1']);
    expect(readCert(fx.entry('etcd-peer').certPath).sanIP).toEqual(['127.0.0.1', '::1']);
  });

  it('dates leaves issue − 5 min .. issue + 365 d and CAs 10 years, to the second', () => {
    const fx = trees.default;
    const issued = NOW_S.getTime() - 10 * DAY;
    const caIssued = NOW_S.getTime() - 400 * DAY;
    expect(fx.dates.issuedAt).toEqual(new Date(issued));
    for (const e of fx.entries) {
      const c = readCert(credentials(fx, e).cert);
      if (e.kind === 'ca') {
        expect(c.notBefore.getTime()).toBe(caIssued - FIVE_MIN);
        expect(c.notAfter.getTime()).toBe(caIssued + 3650 * DAY);
      } else {
        expect(c.notBefore.getTime(), e.name).toBe(issued - FIVE_MIN);
        expect(c.notAfter.getTime(), e.name).toBe(issued + 365 * DAY);
      }
      expect(verifyChain(caOf(fx, e), credentials(fx, e).cert, NOW).ok, e.name).toBe(true);
    }
  });

  it('gives every certificate its own random serial', () => {
    const fx = trees.default;
    const serials = fx.entries.map((e) => readCert(credentials(fx, e).cert).serial);
    expect(new Set(serials).size).toBe(serials.length);
    for (const s of serials) expect(s).toMatch(/^[0-9A-F]{16,}$/);
  });

  it('points kubelet.conf at a symlinked cert+key pem, as the kubelet rotates it', () => {
    const fx = trees.default;
    const e = fx.entry('kubelet.conf');
    expect(e.credentials).toBe('file');
    const link = join(fx.root, KUBELET_CLIENT_CURRENT);
    expect(e.certPath).toBe(link);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    const target = readlinkSync(link);
    expect(target).toBe('kubelet-client-2025-06-05-12-34-56.pem');
    const pem = join(fx.kubeletDir, 'pki', target);
    expect(mode(pem)).toBe(0o600);
    const text = readFileSync(pem, 'utf8');
    expect(text).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]*-----END CERTIFICATE-----\n-----BEGIN RSA PRIVATE KEY-----\n[\s\S]*-----END RSA PRIVATE KEY-----\n$/);
    const creds = extractKubeconfigCredentials(e.kubeconfigPath ?? '', fx.root);
    expect(creds.certPath).toBe(link);
    expect(creds.certPem + creds.keyPem).toBe(text);
    expect(creds.caPem).toBe(readFileSync(fx.entry('ca').certPath, 'utf8'));
    expect(keyMatchesCert(pem, pem)).toBe(true);
  });

  it('writes the apiserver and etcd flags of a stacked kubeadm control plane', () => {
    const fx = trees.default;
    const api = command(fx, 'kube-apiserver.yaml');
    expect(api[0]).toBe('kube-apiserver');
    expect(api.slice(1)).toEqual([...api.slice(1)].sort());
    expect(flag(api, 'etcd-cafile')).toBe('/etc/kubernetes/pki/etcd/ca.crt');
    expect(flag(api, 'etcd-certfile')).toBe('/etc/kubernetes/pki/apiserver-etcd-client.crt');
    expect(flag(api, 'tls-cert-file')).toBe('/etc/kubernetes/pki/apiserver.crt');
    expect(flag(api, 'kubelet-client-key')).toBe('/etc/kubernetes/pki/apiserver-kubelet-client.key');
    expect(flag(api, 'proxy-client-cert-file')).toBe('/etc/kubernetes/pki/front-proxy-client.crt');
    expect(flag(api, 'service-cluster-ip-range')).toBe('10.96.0.0/12');
    const etcd = command(fx, 'etcd.yaml');
    expect(flag(etcd, 'listen-client-urls')).toBe('https://127.0.0.1:2379');
    expect(flag(etcd, 'name')).toBe('cp-1');
    expect(flag(etcd, 'data-dir')).toBe('/var/lib/etcd');
    expect(flag(etcd, 'peer-cert-file')).toBe('/etc/kubernetes/pki/etcd/peer.crt');
    const cm = command(fx, 'kube-controller-manager.yaml');
    expect(flag(cm, 'cluster-signing-key-file')).toBe('/etc/kubernetes/pki/ca.key');
    // laid out as kubeadm writes it: plain (unquoted) flags, list items at the parent's indentation
    const text = readFileSync(join(fx.manifestsDir, 'kube-apiserver.yaml'), 'utf8');
    expect(text).toContain('\n  containers:\n  - command:\n    - kube-apiserver\n    - --advertise-address=127.0.0.1\n');
    expect(text).toContain('\n    - --etcd-servers=https://127.0.0.1:2379\n');
    expect(text).toContain('\n    kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint: 127.0.0.1:6443\n');
  });
});

describe('variants', () => {
  it('ecdsa-p256: every key is a SEC1 P-256 key', () => {
    const fx = trees.ecdsa;
    expect(readFileSync(fx.entry('apiserver').keyPath ?? '', 'utf8')).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    expect(readCert(fx.entry('ca').certPath)).toMatchObject({ publicKeyAlgorithm: 'id-ecPublicKey', curve: 'prime256v1', keyBits: 256 });
  });

  it('pkcs8: keys are "PRIVATE KEY", the kubelet pem too, sa.key stays PKCS#1', () => {
    const fx = trees.pkcs8;
    expect(readFileSync(fx.entry('etcd-ca').keyPath ?? '', 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(join(fx.root, KUBELET_CLIENT_CURRENT), 'utf8')).toContain('-----BEGIN PRIVATE KEY-----');
    expect(readFileSync(fx.saKeyPath, 'utf8')).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
  });

  it("notBeforeStyle 'ca': a leaf's notBefore is its CA's notBefore, notAfter is issue + validity", () => {
    const fx = trees.caStyle;
    const caNotBefore = NOW_S.getTime() - 1000 * DAY;
    for (const e of fx.entries) {
      const c = readCert(credentials(fx, e).cert);
      expect(c.notBefore.getTime(), e.name).toBe(caNotBefore);
      expect(c.notBefore).toEqual(readCert(caOf(fx, e)).notBefore);
      if (e.kind !== 'ca') expect(c.notAfter.getTime(), e.name).toBe(NOW_S.getTime() - 30 * DAY + 365 * DAY);
    }
  });

  it('expired: every leaf is past notAfter (openssl verify says so), every CA still valid', () => {
    const fx = trees.expired;
    for (const e of fx.entries) {
      const { cert } = credentials(fx, e);
      const r = verifyChain(caOf(fx, e), cert, NOW);
      if (e.kind === 'ca') {
        expect(r.ok, r.output).toBe(true);
      } else {
        expect(r.ok, e.name).toBe(false);
        expect(r.output).toMatch(/certificate has expired/);
        expect(readCert(cert).notAfter.getTime()).toBe(NOW_S.getTime() - 35 * DAY);
        expect(verifyChain(caOf(fx, e), cert, new Date(NOW.getTime() - 40 * DAY)).ok, e.name).toBe(true);
      }
    }
  });

  it('externalCA: ca.crt without ca.key, controller-manager signing flags blanked', () => {
    const fx = trees.externalCA;
    expect(existsSync(join(fx.pkiDir, 'ca.crt'))).toBe(true);
    expect(existsSync(join(fx.pkiDir, 'ca.key'))).toBe(false);
    expect(fx.entry('ca').keyPath).toBeUndefined();
    expect(existsSync(join(fx.pkiDir, 'front-proxy-ca.key'))).toBe(true);
    const cm = command(fx, 'kube-controller-manager.yaml');
    expect(cm).toContain('--cluster-signing-cert-file=');
    expect(cm).toContain('--cluster-signing-key-file=');
  });

  it('externalEtcd: no local etcd PKI or manifest, apiserver points at the external cluster', () => {
    const fx = trees.externalEtcd;
    expect(existsSync(join(fx.pkiDir, 'etcd'))).toBe(false);
    expect(existsSync(join(fx.pkiDir, 'apiserver-etcd-client.crt'))).toBe(false);
    expect(fx.entries.map((e) => e.name).sort()).toEqual(STACKED.filter((n) => !n.startsWith('etcd') && n !== 'apiserver-etcd-client').sort());
    const api = command(fx, 'kube-apiserver.yaml');
    expect(flag(api, 'etcd-servers')).toBe('https://etcd-1.example.invalid:2379');
    expect(flag(api, 'etcd-cafile')).toBe('/etc/kubernetes/pki/external-etcd/ca.crt');
    expect(flag(api, 'etcd-certfile')).toBe('/etc/kubernetes/pki/external-etcd/apiserver-etcd-client.crt');
    expect(flag(api, 'etcd-keyfile')).toBe('/etc/kubernetes/pki/external-etcd/apiserver-etcd-client.key');
    expect(existsSync(join(fx.pkiDir, 'external-etcd'))).toBe(false);
  });

  it("joinedNode: no super-admin.conf; kubelet.conf is the kubelet's bootstrap form", () => {
    const fx = trees.joined;
    expect(existsSync(join(fx.kubernetesDir, 'super-admin.conf'))).toBe(false);
    expect(fx.entries.some((e) => e.name === 'super-admin.conf')).toBe(false);
    const kc = loadYaml(join(fx.kubernetesDir, 'kubelet.conf'));
    expect(kc['current-context']).toBe('default-context');
    expect(kc['users'][0]['name']).toBe('default-auth');
    expect(kc['contexts'][0]['context']).toEqual({ cluster: 'default-cluster', namespace: 'default', user: 'default-auth' });
    expect(readCert(fx.entry('kubelet.conf').certPath).subject).toBe('CN=system:node:cp-1,O=system:nodes');
  });

  it('embedded kubelet.conf: credentials inline, no kubelet pki pem', () => {
    const fx = trees.embeddedKubelet;
    const e = fx.entry('kubelet.conf');
    expect(e.credentials).toBe('embedded');
    expect(e.certPath).toBe(e.kubeconfigPath);
    expect(existsSync(join(fx.root, KUBELET_CLIENT_CURRENT))).toBe(false);
    const kc = loadYaml(e.kubeconfigPath ?? '');
    expect(kc['current-context']).toBe('system:node:cp-1@kubernetes');
    expect(Object.keys(kc['users'][0]['user'])).toEqual(['client-certificate-data', 'client-key-data']);
  });

  it('custom addresses, names, group and ports reach certificates, kubeconfigs and manifests', () => {
    const fx = trees.custom;
    const api = readCert(fx.entry('apiserver').certPath);
    expect(api.sanDNS[0]).toBe('node-a.example');
    expect(api.sanIP).toEqual(['10.100.0.1', '127.0.0.2']);
    expect(readCert(fx.entry('etcd-server').certPath).sanIP).toEqual(['127.0.0.2', '127.0.0.1', '::1']);
    expect(readCert(fx.entry('etcd-peer').certPath).subject).toBe('CN=node-a.example');
    expect(readCert(fx.entry('apiserver-kubelet-client').certPath).subjectAttrs).toEqual({ O: ['system:masters'], CN: ['kube-apiserver-kubelet-client'] });
    const admin = extractKubeconfigCredentials(fx.entry('admin.conf').kubeconfigPath ?? '', fx.root);
    expect(readCert(admin.certPem).subject).toBe('CN=kubernetes-admin,O=system:masters');
    expect(flag(command(fx, 'etcd.yaml'), 'listen-client-urls')).toBe('https://127.0.0.1:12379,https://127.0.0.2:12379');
    expect(flag(command(fx, 'kube-apiserver.yaml'), 'service-cluster-ip-range')).toBe('10.100.0.0/16');
  });

  it('keys are distinct within a tree; reuseKeys trees share keys per entry but not certificates', () => {
    for (const v of ['default', 'expired'] as const) {
      const fx = trees[v];
      const pubs = fx.entries.filter((e) => e.keyPath).map((e) => publicKeyOfKey(credentials(fx, e).key ?? ''));
      expect(new Set([...pubs, publicKeyOfKey(fx.saKeyPath)]).size).toBe(pubs.length + 1);
    }
    const a = trees.expired;
    const b = trees.caStyle;
    for (const e of a.entries) {
      const other = b.entry(e.name);
      expect(publicKeyOfKey(credentials(b, other).key ?? ''), e.name).toBe(publicKeyOfKey(credentials(a, e).key ?? ''));
      expect(readCert(credentials(b, other).cert).serial).not.toBe(readCert(credentials(a, e).cert).serial);
      expect(publicKeyOfKey(credentials(trees.default, trees.default.entry(e.name)).key ?? '')).not.toBe(publicKeyOfKey(credentials(a, e).key ?? ''));
    }
    expect(readFileSync(b.saKeyPath, 'utf8')).toBe(readFileSync(a.saKeyPath, 'utf8'));
  });

  it('IPv6 advertise address: bracketed URLs, deduplicated SANs, YAML that reads back', () => {
    const fx = trees.ipv6;
    expect(readCert(fx.entry('etcd-server').certPath).sanIP).toEqual(['::1', '127.0.0.1']);
    expect(readCert(fx.entry('apiserver').certPath).sanIP).toEqual(['10.96.0.1', '::1']);
    expect(flag(command(fx, 'etcd.yaml'), 'listen-client-urls')).toBe('https://127.0.0.1:2379,https://[::1]:2379');
    expect(flag(command(fx, 'kube-apiserver.yaml'), 'advertise-address')).toBe('::1');
    expect(loadYaml(join(fx.manifestsDir, 'kube-apiserver.yaml'))['spec']['containers'][0]['readinessProbe']['httpGet']['host']).toBe('::1');
  });

  it('yamlScalar keeps strings strings and leaves kubeadm flags plain', () => {
    for (const s of ['--a=b', '--x=', '::1', '[::1]:6443', 'true', 'null', '10257', '1e3', '- x', 'a: b', 'a #b', '*,x', '', ' x', 'system:node:a', '0x1F', '.5']) {
      expect((yaml.load(`k: ${yamlScalar(s)}`) as { k: unknown }).k, s).toBe(s);
    }
    expect(['--controllers=*,bootstrapsigner,tokencleaner', '--cluster-signing-key-file=', 'https://127.0.0.1:2379', 'system:node:cp-1@kubernetes'].map(yamlScalar))
      .toEqual(['--controllers=*,bootstrapsigner,tokencleaner', '--cluster-signing-key-file=', 'https://127.0.0.1:2379', 'system:node:cp-1@kubernetes']);
  });

  it('rejects contradictory options', async () => {
    await expect(createKubeadmTree(join(base, 'bad1'), { issuedDaysAgo: 50, caIssuedDaysAgo: 10 })).rejects.toThrow(/caIssuedDaysAgo/);
    await expect(createKubeadmTree(join(base, 'bad2'), { expired: true, issuedDaysAgo: 20 })).rejects.toThrow(/not expired/);
  });
});

describe('openssl helpers fail when they should', () => {
  it('expectSignedBy rejects a certificate from another CA, verifyChain explains', () => {
    const fx = trees.default;
    expect(() => expectSignedBy(fx.entry('etcd-ca').certPath, fx.entry('apiserver').certPath)).toThrow(/not signed by/);
    // same subject, different key: a CA from another tree must not verify
    const other = trees.pkcs8.entry('ca').certPath;
    const r = verifyChain(other, fx.entry('apiserver').certPath, NOW);
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/unable to get local issuer certificate|certificate signature failure/);
    expect(verifyChain(readFileSync(fx.entry('ca').certPath, 'utf8'), readFileSync(fx.entry('apiserver').certPath, 'utf8'), { purpose: 'sslserver', attime: NOW }).ok).toBe(true);
    expect(verifyChain(fx.entry('ca').certPath, fx.entry('apiserver').certPath, { purpose: 'sslclient', attime: NOW }).ok).toBe(false);
  });

  it('expectKeyMatches / keyMatchesCert reject a foreign key', () => {
    const fx = trees.default;
    expect(keyMatchesCert(fx.entry('apiserver').certPath, fx.entry('front-proxy-client').keyPath ?? '')).toBe(false);
    expect(() => expectKeyMatches(fx.entry('apiserver').certPath, fx.entry('front-proxy-client').keyPath ?? '')).toThrow(/does not belong/);
  });

  it('expectSameIdentity accepts the same identity from another tree and rejects a different one', () => {
    expectSameIdentity(trees.default.entry('etcd-peer').certPath, trees.ecdsa.entry('etcd-peer').certPath);
    expectSameIdentity(trees.default.entry('apiserver').certPath, readFileSync(trees.pkcs8.entry('apiserver').certPath, 'utf8'));
    expect(() => expectSameIdentity(trees.default.entry('etcd-peer').certPath, trees.custom.entry('etcd-peer').certPath)).toThrow(/identity/);
    expect(() => expectSameIdentity(trees.default.entry('apiserver').certPath, trees.default.entry('etcd-server').certPath)).toThrow();
  });

  it('keyInfo refuses a file without a private key; readCert refuses a key', () => {
    const fx = trees.default;
    expect(() => keyInfo(fx.entry('ca').certPath)).toThrow(/no unencrypted private key/);
    expect(() => readCert(fx.entry('ca').keyPath ?? '')).toThrow(/openssl x509/);
  });

  it('parseRfc2253 unescapes and returns DER order', () => {
    expect(parseRfc2253('CN=a\\,b\\2B,O=x,O=z')).toEqual({ O: ['z', 'x'], CN: ['a,b+'] });
  });
});
