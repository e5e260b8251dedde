/**
 * The built-in demo host: a kubeadm-shaped /etc/kubernetes in a temporary directory, made with the product's own
 * PKI code from the catalog's identities (tests build theirs independently with the openssl CLI). Leaves were issued 300 days ago in the older
 * kubeadm style (notBefore = the CA's), so most are inside renewBefore, and the API server's expired yesterday.
 */
import { type KeyObject, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { dumpYaml } from '../yaml.js';
import { type CaName, type Identity, LEAVES, type LeafEntry } from '../catalog.js';
import { OID } from '../pki/certificate.js';
import * as der from '../pki/der.js';
import { authorityKeyId, extension, leafKeyUsage, signCertificate, subjectKeyId } from '../pki/issue.js';

const DAY = 86_400_000;
const HOST = 'demo-cp-1';
const ADDRESS = '192.0.2.10';

function name(attrs: Array<[string, string]>): Buffer {
  const oids: Record<string, string> = { CN: '2.5.4.3', O: '2.5.4.10' };
  return der.encodeDer(
    der.sequence(
      attrs.map(([t, v]) => {
        const atv = der.sequence([der.oid(oids[t] as string), der.utf8String(v)]);
        return der.set([atv]);
      }),
    ),
  );
}

function ipBytes(text: string): Buffer {
  if (!text.includes(':')) return Buffer.from(text.split('.').map(Number));
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

function sans(dns: string[], ips: string[]): der.Asn1 {
  const ip = ipBytes;
  return extension(OID.subjectAltName, false, der.sequence([
    ...dns.map((d) => der.implicitPrimitive(2, Buffer.from(d, 'latin1'))),
    ...ips.map((i) => der.implicitPrimitive(7, ip(i))),
  ]));
}

function eku(kinds: Identity['extKeyUsage']): der.Asn1 {
  const oid = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' };
  return extension(OID.extKeyUsage, false, der.sequence(kinds.map((k) => der.oid(oid[k]))));
}

/** What kubeadm adds to the catalog's minimum SANs from this host's configuration (node name, addresses). */
const HOST_SANS: Record<string, { dns: string[]; ip: string[] }> = {
  apiserver: { dns: [HOST], ip: ['10.96.0.1', ADDRESS] },
  'etcd-server': { dns: [HOST], ip: [ADDRESS, '::1'] },
  'etcd-peer': { dns: [HOST, 'localhost'], ip: [ADDRESS, '127.0.0.1', '::1'] },
};

/** The catalog's identity for this demo host: `<node>` is its name, `<domain>` kubeadm's default. */
function demoIdentity(entry: LeafEntry): { subject: Array<[string, string]>; extra: der.Asn1[] } {
  const fill = (rule: string): string => rule.replace('<node>', HOST).replace('<domain>', 'cluster.local');
  const { identity } = entry;
  const subject: Array<[string, string]> = [...(identity.organizations[0] ?? []).map((o): [string, string] => ['O', o]), ['CN', fill(identity.commonName)]];
  const host = HOST_SANS[entry.name];
  const dns = [...(host?.dns ?? []), ...(identity.sans?.dns ?? []).map(fill)];
  const ip = [...(host?.ip ?? []), ...(identity.sans?.ip ?? [])];
  return { subject, extra: dns.length || ip.length ? [sans(dns, ip)] : [] };
}

interface Issued {
  pem: string;
  key: KeyObject;
  subject: Buffer;
  skid: Buffer;
  notBefore: Date;
}

const rsa = (): { privateKey: KeyObject; publicKey: KeyObject } => generateKeyPairSync('rsa', { modulusLength: 2048 });

function makeCa(cn: string, notBefore: Date): Issued {
  const { privateKey, publicKey } = rsa();
  const subject = name([['CN', cn]]);
  const skid = subjectKeyId(publicKey);
  const pem = signCertificate({
    issuer: subject, subject, notBefore, notAfter: new Date(notBefore.getTime() + 3650 * DAY), publicKey,
    extensions: [
      extension(OID.keyUsage, true, der.bitString(Buffer.from([0xa4]), 2)),
      extension(OID.basicConstraints, true, der.sequence([der.boolean(true)])),
      extension(OID.subjectKeyIdentifier, false, der.octetString(skid)),
    ],
    signer: privateKey,
  });
  return { pem, key: privateKey, subject, skid, notBefore };
}

function makeLeaf(ca: Issued, subject: Array<[string, string]>, usage: der.Asn1, notAfter: Date, extra: der.Asn1[] = []): { cert: string; key: string } {
  const { privateKey, publicKey } = rsa();
  const cert = signCertificate({
    issuer: ca.subject, subject: name(subject), notBefore: ca.notBefore, notAfter, publicKey,
    extensions: [leafKeyUsage(), usage, extension(OID.basicConstraints, true, der.sequence([])), authorityKeyId(ca.skid), ...extra],
    signer: ca.key,
  });
  return { cert, key: privateKey.export({ type: 'pkcs1', format: 'pem' }) as string };
}

function write(file: string, content: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  writeFileSync(file, content, { mode });
}

function kubeconfig(caPem: string, user: string, leaf: { cert: string; key: string }): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return dumpYaml({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(caPem), server: `https://${ADDRESS}:6443` }, name: 'kubernetes' }],
    contexts: [{ context: { cluster: 'kubernetes', user }, name: `${user}@kubernetes` }],
    'current-context': `${user}@kubernetes`,
    kind: 'Config',
    preferences: {},
    users: [{ name: user, user: { 'client-certificate-data': b64(leaf.cert), 'client-key-data': b64(leaf.key) } }],
  });
}

function manifest(component: string, command: string[], annotations: Record<string, string> = {}): string {
  return dumpYaml({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(Object.keys(annotations).length ? { annotations } : {}),
      creationTimestamp: null,
      labels: { component, tier: 'control-plane' },
      name: component,
      namespace: 'kube-system',
    },
    spec: {
      containers: [{ command, image: `registry.k8s.io/${component}:v1.31.2`, name: component }],
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
    },
    status: {},
  });
}

/** Build the demo host under `root`; returns the subject names written, for the demo's narration. */
export function buildDemoTree(root: string, now: Date): void {
  const k8s = join(root, 'etc/kubernetes');
  const pki = join(k8s, 'pki');
  const caBirth = new Date(now.getTime() - 1000 * DAY);
  const cas: Record<CaName, Issued> = {
    ca: makeCa('kubernetes', caBirth),
    'front-proxy-ca': makeCa('front-proxy-ca', caBirth),
    'etcd-ca': makeCa('etcd-ca', caBirth),
  };
  const caFiles: Record<CaName, string> = { ca: 'ca', 'front-proxy-ca': 'front-proxy-ca', 'etcd-ca': 'etcd/ca' };
  for (const [n, ca] of Object.entries(cas) as Array<[CaName, Issued]>) {
    write(join(pki, `${caFiles[n]}.crt`), ca.pem, 0o644);
    write(join(pki, `${caFiles[n]}.key`), ca.key.export({ type: 'pkcs1', format: 'pem' }) as string, 0o600);
  }
  const sa = rsa();
  write(join(pki, 'sa.key'), sa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string, 0o600);
  write(join(pki, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }) as string, 0o644);

  const inDays = (d: number): Date => new Date(now.getTime() + d * DAY);
  for (const entry of LEAVES) {
    const id = demoIdentity(entry);
    const notAfter = inDays(entry.name === 'apiserver' ? -1 : entry.name === 'kubelet.conf' ? 300 : 65);
    const leaf = makeLeaf(cas[entry.ca], id.subject, eku(entry.identity.extKeyUsage), notAfter, id.extra);
    if (entry.kind === 'pki') {
      write(join(pki, entry.cert), leaf.cert, 0o644);
      write(join(pki, entry.key), leaf.key, 0o600);
    } else if (entry.name === 'kubelet.conf') {
      // The modern form: the kubelet rotates this certificate itself.
      const current = join(root, 'var/lib/kubelet/pki/kubelet-client-current.pem');
      write(join(dirname(current), 'kubelet-client-demo.pem'), leaf.cert + leaf.key, 0o600);
      symlinkSync('/var/lib/kubelet/pki/kubelet-client-demo.pem', current);
      const text = kubeconfig(cas.ca.pem, `system:node:${HOST}`, leaf)
        .replace(/client-certificate-data: .*/, 'client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem')
        .replace(/client-key-data: .*/, 'client-key: /var/lib/kubelet/pki/kubelet-client-current.pem');
      write(join(k8s, entry.file), text, 0o600);
    } else {
      const user = id.subject.find(([t]) => t === 'CN')?.[1] ?? entry.name;
      write(join(k8s, entry.file), kubeconfig(cas.ca.pem, user, leaf), 0o600);
    }
  }

  writeManifests(join(k8s, 'manifests'));
}

/** kubeadm's static pod manifests, with the flags that name the certificates and the addresses they serve on. */
function writeManifests(m: string): void {
  const p = '/etc/kubernetes/pki';
  write(join(m, 'etcd.yaml'), manifest('etcd', [
    'etcd', `--advertise-client-urls=https://${ADDRESS}:2379`, `--cert-file=${p}/etcd/server.crt`, '--client-cert-auth=true',
    '--data-dir=/var/lib/etcd', `--key-file=${p}/etcd/server.key`, `--listen-client-urls=https://127.0.0.1:2379,https://${ADDRESS}:2379`,
    `--listen-peer-urls=https://${ADDRESS}:2380`, `--name=${HOST}`, `--peer-cert-file=${p}/etcd/peer.crt`, `--peer-key-file=${p}/etcd/peer.key`,
    `--peer-trusted-ca-file=${p}/etcd/ca.crt`, `--trusted-ca-file=${p}/etcd/ca.crt`,
  ], { 'kubeadm.kubernetes.io/etcd.advertise-client-urls': `https://${ADDRESS}:2379` }), 0o600);
  write(join(m, 'kube-apiserver.yaml'), manifest('kube-apiserver', [
    'kube-apiserver', `--advertise-address=${ADDRESS}`, `--client-ca-file=${p}/ca.crt`, `--etcd-cafile=${p}/etcd/ca.crt`,
    `--etcd-certfile=${p}/apiserver-etcd-client.crt`, `--etcd-keyfile=${p}/apiserver-etcd-client.key`, '--etcd-servers=https://127.0.0.1:2379',
    `--kubelet-client-certificate=${p}/apiserver-kubelet-client.crt`, `--kubelet-client-key=${p}/apiserver-kubelet-client.key`,
    `--proxy-client-cert-file=${p}/front-proxy-client.crt`, `--proxy-client-key-file=${p}/front-proxy-client.key`,
    '--secure-port=6443', `--tls-cert-file=${p}/apiserver.crt`, `--tls-private-key-file=${p}/apiserver.key`,
  ], { 'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': `${ADDRESS}:6443` }), 0o600);
  write(join(m, 'kube-controller-manager.yaml'), manifest('kube-controller-manager', [
    'kube-controller-manager', '--bind-address=127.0.0.1', '--kubeconfig=/etc/kubernetes/controller-manager.conf',
  ]), 0o600);
  write(join(m, 'kube-scheduler.yaml'), manifest('kube-scheduler', [
    'kube-scheduler', '--bind-address=127.0.0.1', '--kubeconfig=/etc/kubernetes/scheduler.conf',
  ]), 0o600);
}
