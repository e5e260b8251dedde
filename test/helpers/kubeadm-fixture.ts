// Builds a kubeadm control-plane host tree (root/etc/kubernetes, root/var/lib/kubelet) with the openssl CLI only.
//
// This is the independent implementation the product is graded against: it must never import product code.
// Every certificate, self-signed CAs included, is issued with `openssl ca -startdate/-enddate`, so notBefore and
// notAfter are exact to the second. Keys are generated in parallel (async execFile behind a small process pool).
//
// createKubeadmTree is ASYNC: `const fx = await createKubeadmTree(dir, { ... })`.
import { execFile } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import * as yaml from 'js-yaml';
import { DEFAULT_PORTS, ETCD_IMAGE_TAG, KUBERNETES_VERSION, hostPort, renderManifests, yamlScalar as q } from './manifests.js';
import type { ManifestPorts } from './manifests.js';

export type KeyAlgorithm = 'rsa2048' | 'rsa4096' | 'ecdsa-p256';
export type KeyEncoding = 'traditional' | 'pkcs8';
export type CaName = 'ca' | 'front-proxy-ca' | 'etcd-ca';
export type Ports = ManifestPorts;

export interface FixtureOptions {
  /** all CAs, leaves, kubeconfig client certs and sa.key; default 'rsa2048' */
  keyAlgorithm?: KeyAlgorithm;
  /** traditional = PKCS#1 / SEC1 (kubeadm), pkcs8 = "PRIVATE KEY"; sa.key is always traditional. default traditional */
  keyEncoding?: KeyEncoding;
  /** 'issue': leaf notBefore = issue time − 5 min (new kubeadm); 'ca': leaf notBefore = its CA's notBefore */
  notBeforeStyle?: 'issue' | 'ca';
  now?: Date;
  /** leaves and kubeconfig client certs were issued this many days before now; default 10 (400 with expired) */
  issuedDaysAgo?: number;
  /** default max(issuedDaysAgo + 1, 400) */
  caIssuedDaysAgo?: number;
  /** default 365 */
  leafValidityDays?: number;
  /** shorthand for issuedDaysAgo 400 + leafValidityDays 365 (each unless given explicitly): every leaf expired */
  expired?: boolean;
  /** pki/ca.key removed (ca.crt stays) */
  externalCA?: boolean;
  /** no pki/etcd, no apiserver-etcd-client, no etcd.yaml; apiserver points at externalEtcdEndpoint */
  externalEtcd?: boolean;
  /** no super-admin.conf; a 'file' kubelet.conf is the kubelet's TLS-bootstrap form (default-auth/default-cluster) */
  joinedNode?: boolean;
  kubeletConf?: 'file' | 'embedded';
  hostname?: string;
  advertiseAddress?: string;
  serviceVIP?: string;
  clusterAdminsGroup?: 'kubeadm:cluster-admins' | 'system:masters';
  ports?: Partial<Ports>;
  /** --service-cluster-ip-range; default 10.96.0.0/12 */
  serviceSubnet?: string;
  /** used with externalEtcd; default https://etcd-1.example.invalid:2379 (never resolves) */
  externalEtcdEndpoint?: string;
  /**
   * Reuse the keys an earlier reuseKeys tree of this process generated for the same entry name, algorithm and
   * encoding (RSA-2048 keygen costs ~0.3 s a key, 16 keys a tree). Keys stay distinct within a tree; certificates
   * are always issued afresh. Leave it off when a test moves keys between trees (a "foreign" key would match).
   * default false
   */
  reuseKeys?: boolean;
  /**
   * The PKI directory of an earlier tree whose CAs (certificates and keys) this tree takes instead of making its own,
   * so several control-plane node roots share one cluster PKI (an HA control plane). default: own CAs
   */
  sharedCasFrom?: string;
}

export type ResolvedFixtureOptions = Required<Omit<FixtureOptions, 'now' | 'ports' | 'sharedCasFrom'>> & { ports: Ports };

export interface FixtureEntry {
  /** kubeadm's name: 'ca', 'apiserver', 'etcd-server', 'admin.conf', ... */
  name: string;
  kind: 'ca' | 'pki' | 'kubeconfig';
  /** absolute; for an embedded kubeconfig this is the kubeconfig itself, for a file-form kubelet.conf the pem */
  certPath: string;
  /** absolute; undefined for an external CA; same as certPath for kubeconfig entries */
  keyPath?: string;
  kubeconfigPath?: string;
  caName?: CaName;
  /** kubeconfig entries only */
  credentials?: 'embedded' | 'file';
  notBefore: Date;
  notAfter: Date;
}

export interface FixtureDates {
  caIssuedAt: Date;
  caNotBefore: Date;
  caNotAfter: Date;
  /** issue time of leaves and kubeconfig certs */
  issuedAt: Date;
  leafNotBefore: Date;
  leafNotAfter: Date;
}

export interface Fixture {
  root: string;
  now: Date;
  options: ResolvedFixtureOptions;
  kubernetesDir: string;
  pkiDir: string;
  manifestsDir: string;
  /** root/var/lib/kubelet */
  kubeletDir: string;
  saKeyPath: string;
  saPubPath: string;
  dates: FixtureDates;
  entries: FixtureEntry[];
  /** the entry with that name; throws when the tree has none */
  entry(name: string): FixtureEntry;
}

/** the path the kubelet rotates its client cert behind (absolute host path, as written in kubelet.conf) */
export const KUBELET_CLIENT_CURRENT = '/var/lib/kubelet/pki/kubelet-client-current.pem';

const OPENSSL = process.env['OPENSSL_BIN'] ?? '/usr/bin/openssl';
// no system trust store: nothing here needs it, and loading it is most of a short openssl call's time
const OPENSSL_ENV = { ...process.env, SSL_CERT_FILE: '/dev/null', SSL_CERT_DIR: '/nonexistent' };
const DAY_MS = 86_400_000;
const BACKDATE_MS = 5 * 60_000;
const CA_VALIDITY_DAYS = 3650;

// ---------- process pool ----------

function createLimiter(size: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active < size) active++;
    else await new Promise<void>((wake) => waiting.push(wake));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next(); // hand the slot over
      else active--;
    }
  };
}

const limit = createLimiter(Math.max(2, availableParallelism()));

function openssl(args: string[]): Promise<string> {
  return limit(
    () =>
      new Promise<string>((done, fail) => {
        execFile(OPENSSL, args, { encoding: 'utf8', env: OPENSSL_ENV, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
          if (err) fail(new Error(`openssl ${args.join(' ')} failed: ${stderr || err.message}`));
          else done(stdout);
        });
      }),
  );
}

// ---------- small file helpers ----------

function writeFile(path: string, content: string | Buffer, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode });
  chmodSync(path, mode); // the umask must not decide
}

function mkdir(path: string, mode: number): void {
  mkdirSync(path, { recursive: true });
  chmodSync(path, mode);
}

let tempPemDir: string | undefined;

/**
 * Writes PEM text to a fresh temp file and returns its path. The directory is removed on a normal process exit only
 * (a vitest worker that is killed leaves it behind): prefer your test's own temp dir when you have one.
 */
export function writeTempPem(pem: string): string {
  if (!tempPemDir) {
    const dir = mkdtempSync(join(tmpdir(), 'kcr-pem-'));
    tempPemDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const path = join(tempPemDir, `${process.hrtime.bigint()}-${Math.random().toString(36).slice(2)}.pem`);
  writeFileSync(path, pem, { mode: 0o600 });
  return path;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----\r?\n?/g;

/** the PEM blocks whose type matches (e.g. /^CERTIFICATE$/ or /PRIVATE KEY$/), each ending in a newline */
export function pemBlocks(text: string, type: RegExp): string[] {
  return [...text.matchAll(PEM_BLOCK)].filter((m) => type.test(m[1] ?? '')).map((m) => (m[0].endsWith('\n') ? m[0] : `${m[0]}\n`));
}

function opensslTime(d: Date): string {
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

// ---------- what the tree holds ----------

type Eku = 'serverAuth' | 'clientAuth';

interface CertSpec {
  name: string;
  kind: 'ca' | 'pki' | 'kubeconfig';
  /** pki entries and CAs: path under pki/ without extension */
  file?: string;
  ca?: CaName;
  cn: string;
  o?: string;
  eku: Eku[];
  dns?: string[];
  ips?: string[];
  /** kubeconfig entries: file name under etc/kubernetes and user name */
  kubeconfig?: string;
  user?: string;
}

function certSpecs(o: ResolvedFixtureOptions): CertSpec[] {
  const etcdIPs = [...new Set([o.advertiseAddress, '127.0.0.1', '::1'])];
  const specs: CertSpec[] = [
    { name: 'ca', kind: 'ca', file: 'ca', cn: 'kubernetes', eku: [] },
    { name: 'front-proxy-ca', kind: 'ca', file: 'front-proxy-ca', cn: 'front-proxy-ca', eku: [] },
    {
      name: 'apiserver', kind: 'pki', file: 'apiserver', ca: 'ca', cn: 'kube-apiserver', eku: ['serverAuth'],
      dns: [o.hostname, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
      ips: [...new Set([o.serviceVIP, o.advertiseAddress])],
    },
    { name: 'apiserver-kubelet-client', kind: 'pki', file: 'apiserver-kubelet-client', ca: 'ca', cn: 'kube-apiserver-kubelet-client', o: o.clusterAdminsGroup, eku: ['clientAuth'] },
    { name: 'front-proxy-client', kind: 'pki', file: 'front-proxy-client', ca: 'front-proxy-ca', cn: 'front-proxy-client', eku: ['clientAuth'] },
  ];
  if (!o.externalEtcd) {
    specs.push(
      { name: 'etcd-ca', kind: 'ca', file: 'etcd/ca', cn: 'etcd-ca', eku: [] },
      { name: 'apiserver-etcd-client', kind: 'pki', file: 'apiserver-etcd-client', ca: 'etcd-ca', cn: 'kube-apiserver-etcd-client', eku: ['clientAuth'] },
      { name: 'etcd-server', kind: 'pki', file: 'etcd/server', ca: 'etcd-ca', cn: o.hostname, eku: ['serverAuth', 'clientAuth'], dns: [o.hostname, 'localhost'], ips: etcdIPs },
      { name: 'etcd-peer', kind: 'pki', file: 'etcd/peer', ca: 'etcd-ca', cn: o.hostname, eku: ['serverAuth', 'clientAuth'], dns: [o.hostname, 'localhost'], ips: etcdIPs },
      { name: 'etcd-healthcheck-client', kind: 'pki', file: 'etcd/healthcheck-client', ca: 'etcd-ca', cn: 'kube-etcd-healthcheck-client', eku: ['clientAuth'] },
    );
  }
  const kc = (kubeconfig: string, cn: string, org?: string): CertSpec => ({
    name: kubeconfig, kind: 'kubeconfig', kubeconfig, ca: 'ca', cn, ...(org ? { o: org } : {}), eku: ['clientAuth'], user: cn,
  });
  specs.push(kc('admin.conf', 'kubernetes-admin', o.clusterAdminsGroup));
  if (!o.joinedNode) specs.push(kc('super-admin.conf', 'kubernetes-super-admin', 'system:masters'));
  specs.push(
    kc('controller-manager.conf', 'system:kube-controller-manager'),
    kc('scheduler.conf', 'system:kube-scheduler'),
    kc('kubelet.conf', `system:node:${o.hostname}`, 'system:nodes'),
  );
  return specs;
}

function resolveOptions(options: FixtureOptions): ResolvedFixtureOptions {
  const issuedDaysAgo = options.issuedDaysAgo ?? (options.expired ? 400 : 10);
  const leafValidityDays = options.leafValidityDays ?? 365;
  const resolved: ResolvedFixtureOptions = {
    keyAlgorithm: options.keyAlgorithm ?? 'rsa2048',
    keyEncoding: options.keyEncoding ?? 'traditional',
    notBeforeStyle: options.notBeforeStyle ?? 'issue',
    issuedDaysAgo,
    caIssuedDaysAgo: options.caIssuedDaysAgo ?? Math.max(issuedDaysAgo + 1, 400),
    leafValidityDays,
    expired: options.expired ?? false,
    externalCA: options.externalCA ?? false,
    externalEtcd: options.externalEtcd ?? false,
    joinedNode: options.joinedNode ?? false,
    kubeletConf: options.kubeletConf ?? 'file',
    hostname: options.hostname ?? 'cp-1',
    advertiseAddress: options.advertiseAddress ?? '127.0.0.1',
    serviceVIP: options.serviceVIP ?? '10.96.0.1',
    clusterAdminsGroup: options.clusterAdminsGroup ?? 'kubeadm:cluster-admins',
    ports: { ...DEFAULT_PORTS, ...options.ports },
    serviceSubnet: options.serviceSubnet ?? '10.96.0.0/12',
    externalEtcdEndpoint: options.externalEtcdEndpoint ?? 'https://etcd-1.example.invalid:2379',
    reuseKeys: options.reuseKeys ?? false,
  };
  if (resolved.caIssuedDaysAgo < resolved.issuedDaysAgo) {
    throw new Error(`caIssuedDaysAgo (${resolved.caIssuedDaysAgo}) must be >= issuedDaysAgo (${resolved.issuedDaysAgo})`);
  }
  if (resolved.expired && resolved.issuedDaysAgo <= resolved.leafValidityDays) {
    throw new Error(`expired: leaves issued ${resolved.issuedDaysAgo} days ago with ${resolved.leafValidityDays} days validity are not expired`);
  }
  return resolved;
}

function computeDates(now: Date, o: ResolvedFixtureOptions): FixtureDates {
  const t = Math.floor(now.getTime() / 1000) * 1000; // certificates carry whole seconds
  const caIssuedAt = t - o.caIssuedDaysAgo * DAY_MS;
  const issuedAt = t - o.issuedDaysAgo * DAY_MS;
  const caNotBefore = o.notBeforeStyle === 'issue' ? caIssuedAt - BACKDATE_MS : caIssuedAt;
  return {
    caIssuedAt: new Date(caIssuedAt),
    caNotBefore: new Date(caNotBefore),
    caNotAfter: new Date(caIssuedAt + CA_VALIDITY_DAYS * DAY_MS),
    issuedAt: new Date(issuedAt),
    leafNotBefore: new Date(o.notBeforeStyle === 'issue' ? issuedAt - BACKDATE_MS : caNotBefore),
    leafNotAfter: new Date(issuedAt + o.leafValidityDays * DAY_MS),
  };
}

// ---------- openssl steps ----------

function keygenArgs(alg: KeyAlgorithm, encoding: KeyEncoding, out: string): string[] {
  if (alg === 'ecdsa-p256') {
    return encoding === 'traditional'
      ? ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', out]
      : ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-pkeyopt', 'ec_param_enc:named_curve', '-out', out];
  }
  const bits = alg === 'rsa4096' ? '4096' : '2048';
  return encoding === 'traditional'
    ? ['genrsa', '-traditional', '-out', out, bits]
    : ['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${bits}`, '-out', out];
}

function caConfig(dir: string): string {
  return `[ ca ]
default_ca = fixture_ca
[ fixture_ca ]
dir = ${dir}
database = ${dir}/index.txt
serial = ${dir}/serial
new_certs_dir = ${dir}
unique_subject = no
copy_extensions = none
email_in_dn = no
default_md = sha256
policy = fixture_policy
# PrintableString when possible, else UTF8String: what Go's crypto/x509 does
string_mask = MASK:0x2002
[ fixture_policy ]
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = req_dn
string_mask = MASK:0x2002
[ req_dn ]
`;
}

function extensions(spec: CertSpec): string {
  if (spec.kind === 'ca') {
    return `[ x ]
keyUsage = critical, digitalSignature, keyEncipherment, keyCertSign
basicConstraints = critical, CA:TRUE
subjectKeyIdentifier = hash
authorityKeyIdentifier = none
`;
  }
  const eku = spec.eku.join(', ');
  const san = [...(spec.dns ?? []).map((d) => `DNS:${d}`), ...(spec.ips ?? []).map((ip) => `IP:${ip}`)];
  return `[ x ]
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = ${eku}
basicConstraints = critical, CA:FALSE
subjectKeyIdentifier = none
authorityKeyIdentifier = keyid
${san.length ? `subjectAltName = ${san.join(', ')}\n` : ''}`;
}

const reusableKeys = new Map<string, Promise<string>>();

/** generates a key into out (or copies the reusable one for that slot) and resolves to out */
async function generateKey(alg: KeyAlgorithm, encoding: KeyEncoding, out: string, reuseSlot?: string): Promise<string> {
  if (!reuseSlot) {
    await openssl(keygenArgs(alg, encoding, out));
    return out;
  }
  const slot = `${alg}/${encoding}/${reuseSlot}`;
  let pem = reusableKeys.get(slot);
  if (!pem) {
    pem = openssl(keygenArgs(alg, encoding, out)).then(() => readFileSync(out, 'utf8'));
    reusableKeys.set(slot, pem);
    pem.catch(() => reusableKeys.delete(slot));
  }
  writeFileSync(out, await pem, { mode: 0o600 });
  return out;
}

interface Issued {
  keyPath: string;
  certPath: string;
}

async function issue(
  work: string,
  spec: CertSpec,
  key: Promise<string>,
  issuer: Promise<Issued> | undefined,
  notBefore: Date,
  notAfter: Date,
): Promise<Issued> {
  const dir = join(work, spec.name);
  mkdirSync(dir);
  const cnf = join(dir, 'ca.cnf');
  const ext = join(dir, 'ext.cnf');
  writeFileSync(cnf, caConfig(dir));
  writeFileSync(ext, extensions(spec));
  writeFileSync(join(dir, 'index.txt'), '');
  const keyPath = await key;
  const csr = join(dir, 'req.csr');
  const crt = join(dir, 'cert.pem');
  const subj = `${spec.o ? `/O=${spec.o}` : ''}/CN=${spec.cn}`;
  await openssl(['req', '-config', cnf, '-new', '-key', keyPath, '-subj', subj, '-out', csr]);
  const signer = issuer ? await issuer : undefined;
  await openssl([
    'ca', '-config', cnf, '-batch', '-notext', '-md', 'sha256', '-preserveDN', '-rand_serial',
    '-startdate', opensslTime(notBefore), '-enddate', opensslTime(notAfter),
    '-extfile', ext, '-extensions', 'x', '-in', csr, '-out', crt,
    ...(signer ? ['-cert', signer.certPath, '-keyfile', signer.keyPath] : ['-selfsign', '-keyfile', keyPath]),
  ]);
  return { keyPath, certPath: crt };
}

// ---------- kubeconfigs ----------

type KubeconfigUser = { embedded: { cert: string; key: string } } | { file: string };

function b64(pem: string): string {
  return Buffer.from(pem).toString('base64');
}

/** a kubeconfig as client-go's clientcmd.Write lays it out (sigs.k8s.io/yaml: sorted keys) */
function renderKubeconfig(k: { server: string; caPem: string; cluster: string; context: string; user: string; namespace?: string; credentials: KubeconfigUser }): string {
  const creds = 'embedded' in k.credentials
    ? [`    client-certificate-data: ${b64(k.credentials.embedded.cert)}`, `    client-key-data: ${b64(k.credentials.embedded.key)}`]
    : [`    client-certificate: ${k.credentials.file}`, `    client-key: ${k.credentials.file}`];
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${b64(k.caPem)}`,
    `    server: ${q(k.server)}`,
    `  name: ${q(k.cluster)}`,
    'contexts:',
    '- context:',
    `    cluster: ${q(k.cluster)}`,
    ...(k.namespace ? [`    namespace: ${q(k.namespace)}`] : []),
    `    user: ${q(k.user)}`,
    `  name: ${q(k.context)}`,
    `current-context: ${q(k.context)}`,
    'kind: Config',
    'preferences: {}',
    'users:',
    `- name: ${q(k.user)}`,
    '  user:',
    ...creds,
    '',
  ].join('\n');
}

function kubeletPemName(issuedAt: Date): string {
  // the kubelet's certificate store names rotated files kubelet-client-YYYY-MM-DD-HH-MM-SS.pem
  const s = issuedAt.toISOString();
  return `kubelet-client-${s.slice(0, 10)}-${s.slice(11, 19).replace(/:/g, '-')}.pem`;
}

// ---------- the tree ----------

/**
 * Creates a kubeadm control-plane tree under root (created if missing; meant to be empty). Async: keys are
 * generated in parallel by up to availableParallelism() openssl processes shared by every tree of the process.
 * Paths in the returned fixture are absolute and under root; paths written inside files are host paths.
 */
export async function createKubeadmTree(root: string, options: FixtureOptions = {}): Promise<Fixture> {
  const o = resolveOptions(options);
  const now = options.now ?? new Date();
  const dates = computeDates(now, o);
  root = resolve(root);
  const kubernetesDir = join(root, 'etc/kubernetes');
  const pkiDir = join(kubernetesDir, 'pki');
  const manifestsDir = join(kubernetesDir, 'manifests');
  const kubeletDir = join(root, 'var/lib/kubelet');
  mkdir(kubernetesDir, 0o755);
  mkdir(pkiDir, 0o755);
  if (!o.externalEtcd) mkdir(join(pkiDir, 'etcd'), 0o755);
  mkdir(manifestsDir, 0o755);
  mkdir(join(kubeletDir, 'pki'), 0o755);

  const work = mkdtempSync(join(tmpdir(), 'kcr-fixture-'));
  try {
    const specs = certSpecs(o);
    // CA keys first in the queue: every leaf waits for its CA
    const ordered = [...specs.filter((s) => s.kind === 'ca'), ...specs.filter((s) => s.kind !== 'ca')];
    const keys = new Map<string, Promise<string>>();
    const shared = options.sharedCasFrom;
    for (const spec of ordered) {
      const out = join(work, `${spec.name}.key`);
      if (shared && spec.kind === 'ca') {
        keys.set(spec.name, Promise.resolve(join(shared, `${spec.file ?? spec.name}.key`)));
        continue;
      }
      keys.set(spec.name, generateKey(o.keyAlgorithm, o.keyEncoding, out, o.reuseKeys ? spec.name : undefined));
    }
    const saKeyPath = join(pkiDir, 'sa.key');
    const saPubPath = join(pkiDir, 'sa.pub');
    const saDone = generateKey(o.keyAlgorithm, 'traditional', join(work, 'sa.key'), o.reuseKeys ? 'sa' : undefined).then(async () => {
      writeFile(saKeyPath, readFileSync(join(work, 'sa.key')), 0o600);
      await openssl(['pkey', '-in', saKeyPath, '-pubout', '-out', join(work, 'sa.pub')]);
      writeFile(saPubPath, readFileSync(join(work, 'sa.pub')), 0o644);
    });

    const issued = new Map<string, Promise<Issued>>();
    for (const spec of ordered) {
      const isCA = spec.kind === 'ca';
      const issuer = spec.ca ? issued.get(spec.ca) : undefined;
      if (!isCA && !issuer) throw new Error(`fixture: ${spec.name} has no issuer ${spec.ca ?? '?'}`);
      const key = keys.get(spec.name);
      if (!key) throw new Error(`fixture: no key for ${spec.name}`);
      if (shared && isCA) {
        issued.set(spec.name, key.then((keyPath) => ({ keyPath, certPath: join(shared, `${spec.file ?? spec.name}.crt`) })));
        continue;
      }
      issued.set(
        spec.name,
        issue(work, spec, key, issuer, isCA ? dates.caNotBefore : dates.leafNotBefore, isCA ? dates.caNotAfter : dates.leafNotAfter),
      );
    }
    // allSettled: on a failure, wait for every process before the work dir goes away
    const settled = await Promise.allSettled([saDone, ...issued.values()]);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const results = new Map<string, Issued>();
    for (const [name, p] of issued) results.set(name, await p);

    const pem = (name: string, what: 'certPath' | 'keyPath'): string => {
      const r = results.get(name);
      if (!r) throw new Error(`fixture: ${name} was not issued`);
      return readFileSync(r[what], 'utf8');
    };
    const server = `https://${hostPort(o.advertiseAddress, o.ports.apiserver)}`;
    const entries: FixtureEntry[] = [];

    for (const spec of ordered) {
      const isCA = spec.kind === 'ca';
      const notBefore = isCA ? dates.caNotBefore : dates.leafNotBefore;
      const notAfter = isCA ? dates.caNotAfter : dates.leafNotAfter;
      if (spec.file) {
        const certPath = join(pkiDir, `${spec.file}.crt`);
        const keyPath = join(pkiDir, `${spec.file}.key`);
        writeFile(certPath, pem(spec.name, 'certPath'), 0o644);
        const keyless = spec.name === 'ca' && o.externalCA;
        if (!keyless) writeFile(keyPath, pem(spec.name, 'keyPath'), 0o600);
        entries.push({
          name: spec.name, kind: spec.kind, certPath, ...(keyless ? {} : { keyPath }),
          ...(spec.ca ? { caName: spec.ca } : {}), notBefore, notAfter,
        });
        continue;
      }
      const kubeconfigPath = join(kubernetesDir, spec.kubeconfig ?? spec.name);
      const cert = pem(spec.name, 'certPath');
      const key = pem(spec.name, 'keyPath');
      const caPem = pem('ca', 'certPath');
      const user = spec.user ?? spec.cn;
      let text: string;
      let credPath = kubeconfigPath;
      let credentials: 'embedded' | 'file' = 'embedded';
      if (spec.name === 'kubelet.conf' && o.kubeletConf === 'file') {
        credentials = 'file';
        const pemFile = join(kubeletDir, 'pki', kubeletPemName(dates.issuedAt));
        writeFile(pemFile, cert + key, 0o600);
        credPath = join(root, KUBELET_CLIENT_CURRENT);
        rmSync(credPath, { force: true });
        symlinkSync(basename(pemFile), credPath); // relative, so it resolves inside root (the kubelet writes an absolute one)
        text = o.joinedNode
          ? renderKubeconfig({ server, caPem, cluster: 'default-cluster', context: 'default-context', namespace: 'default', user: 'default-auth', credentials: { file: KUBELET_CLIENT_CURRENT } })
          : renderKubeconfig({ server, caPem, cluster: 'kubernetes', context: `${user}@kubernetes`, user, credentials: { file: KUBELET_CLIENT_CURRENT } });
      } else {
        text = renderKubeconfig({ server, caPem, cluster: 'kubernetes', context: `${user}@kubernetes`, user, credentials: { embedded: { cert, key } } });
      }
      writeFile(kubeconfigPath, text, 0o600);
      entries.push({
        name: spec.name, kind: 'kubeconfig', certPath: credPath, keyPath: credPath, kubeconfigPath,
        caName: 'ca', credentials, notBefore, notAfter,
      });
    }

    const manifests = renderManifests({
      hostname: o.hostname,
      advertiseAddress: o.advertiseAddress,
      ports: o.ports,
      serviceSubnet: o.serviceSubnet,
      podSubnet: '10.244.0.0/16',
      externalCA: o.externalCA,
      kubernetesVersion: KUBERNETES_VERSION,
      etcdImageTag: ETCD_IMAGE_TAG,
      ...(o.externalEtcd
        ? {
            externalEtcd: {
              endpoint: o.externalEtcdEndpoint,
              caFile: '/etc/kubernetes/pki/external-etcd/ca.crt',
              certFile: '/etc/kubernetes/pki/external-etcd/apiserver-etcd-client.crt',
              keyFile: '/etc/kubernetes/pki/external-etcd/apiserver-etcd-client.key',
            },
          }
        : {}),
    });
    for (const [file, content] of Object.entries(manifests)) writeFile(join(manifestsDir, file), content, 0o600);

    const byName = new Map(entries.map((e) => [e.name, e]));
    return {
      root, now, options: o, kubernetesDir, pkiDir, manifestsDir, kubeletDir, saKeyPath, saPubPath, dates, entries,
      entry(name: string): FixtureEntry {
        const e = byName.get(name);
        if (!e) throw new Error(`fixture has no entry ${name} (has: ${[...byName.keys()].join(', ')})`);
        return e;
      },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface KubeconfigCredentials {
  certPem: string;
  keyPem: string;
  caPem?: string;
  /** where the client cert/key came from: the kubeconfig itself (embedded) or the resolved file under root */
  certPath: string;
  keyPath: string;
}

interface NamedItem {
  name?: string;
  [k: string]: unknown;
}

function named(list: unknown, name: string | undefined, what: string, file: string): Record<string, unknown> {
  const item = Array.isArray(list) ? (list as NamedItem[]).find((x) => x?.name === name) : undefined;
  const inner = item?.[what];
  if (!inner || typeof inner !== 'object') throw new Error(`${file}: no ${what} named ${String(name)}`);
  return inner as Record<string, unknown>;
}

/**
 * The current context's client credentials. Embedded data is base64-decoded; file references are resolved as the
 * host would (absolute paths under root, relative ones beside the kubeconfig) and only the matching PEM blocks kept.
 */
export function extractKubeconfigCredentials(kubeconfigPath: string, root: string): KubeconfigCredentials {
  const doc = yaml.load(readFileSync(kubeconfigPath, 'utf8')) as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object') throw new Error(`${kubeconfigPath}: not a kubeconfig`);
  const current = doc['current-context'];
  const context = named(doc['contexts'], typeof current === 'string' ? current : undefined, 'context', kubeconfigPath);
  const user = named(doc['users'], context['user'] as string | undefined, 'user', kubeconfigPath);
  const cluster = named(doc['clusters'], context['cluster'] as string | undefined, 'cluster', kubeconfigPath);
  const hostPath = (p: string): string => (isAbsolute(p) ? join(root, p) : resolve(dirname(kubeconfigPath), p));
  const read = (dataKey: string, fileKey: string, from: Record<string, unknown>): { text: string; path: string } | undefined => {
    const data = from[dataKey];
    if (typeof data === 'string') return { text: Buffer.from(data, 'base64').toString('utf8'), path: kubeconfigPath };
    const file = from[fileKey];
    if (typeof file === 'string') {
      const path = hostPath(file);
      return { text: readFileSync(path, 'utf8'), path };
    }
    return undefined;
  };
  const cert = read('client-certificate-data', 'client-certificate', user);
  const key = read('client-key-data', 'client-key', user);
  if (!cert || !key) throw new Error(`${kubeconfigPath}: current user has no client certificate and key`);
  const ca = read('certificate-authority-data', 'certificate-authority', cluster);
  const certPem = pemBlocks(cert.text, /^CERTIFICATE$/).join('');
  const keyPem = pemBlocks(key.text, /PRIVATE KEY$/)[0];
  if (!certPem || !keyPem) throw new Error(`${kubeconfigPath}: client certificate or key holds no PEM block`);
  return { certPem, keyPem, ...(ca ? { caPem: ca.text } : {}), certPath: cert.path, keyPath: key.path };
}
