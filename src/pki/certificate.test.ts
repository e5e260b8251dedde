// Certificate facts, signature checks and key matching, graded against openssl's reading of the same files: every
// certificate of fixture trees made with the openssl CLI (RSA/PKCS#1, ECDSA/PKCS#8, old-style notBefore, IPv6 SANs)
// and a few odd certificates made with `openssl req` (escaped subject, UTF-8, a 2050+ date, a short serial).
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, type FixtureOptions, createKubeadmTree, extractKubeconfigCredentials } from '../../test/helpers/kubeadm-fixture.js';
import { keyMatchesCert, parseRfc2253, readCert, verifyChain } from '../../test/helpers/openssl.js';
import { type CertFacts, isSignedBy, keyMatchesCertificate, loadPrivateKey, nameText, parseCertificate } from './certificate.js';
import { KEY_LABELS, certificateBlocks, pemBlocks } from './pem.js';

const OPENSSL_KU: Record<string, string> = {
  'Digital Signature': 'digitalSignature', 'Key Encipherment': 'keyEncipherment', 'Certificate Sign': 'keyCertSign', 'CRL Sign': 'cRLSign',
};
const OPENSSL_EKU: Record<string, string> = { 'TLS Web Server Authentication': 'serverAuth', 'TLS Web Client Authentication': 'clientAuth' };
const colonHex = (b: Buffer | undefined): string | undefined => b?.toString('hex').toUpperCase().match(/../g)?.join(':');

/** openssl's RFC 2253 output escapes every UTF-8 byte (\\C3\\BC); parseRfc2253 gives them back one char per byte. */
function utf8(attrs: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(attrs).map(([k, vs]) => [k, vs.map((v) => Buffer.from(v, 'latin1').toString('utf8'))]));
}

function facts(pem: string): CertFacts {
  const block = certificateBlocks(pem)[0];
  if (!block) throw new Error('no certificate');
  return parseCertificate(block.der);
}

/** The certificate's DER elements as `openssl asn1parse` locates them: the TBS, its fields, the extensions. */
function opensslLayout(pem: string): { der: Buffer; tbs: Buffer; fields: Buffer[]; extensions: Buffer[] } {
  const der = execFileSync('openssl', ['x509', '-outform', 'DER'], { input: pem });
  const lines = execFileSync('openssl', ['asn1parse', '-inform', 'DER'], { input: der, encoding: 'utf8' }).split('\n');
  const items = lines.flatMap((l) => {
    const m = /^\s*(\d+):d=(\d+)\s+hl=\s*(\d+) l=\s*(\d+)\s+\w+:\s*(.*)$/.exec(l);
    return m ? [{ at: Number(m[1]), depth: Number(m[2]), end: Number(m[1]) + Number(m[3]) + Number(m[4]), what: m[5] ?? '' }] : [];
  });
  const slice = (i: { at: number; end: number }): Buffer => der.subarray(i.at, i.end);
  const tbs = items.find((i) => i.depth === 1);
  if (!tbs) throw new Error('asn1parse found no TBSCertificate');
  const fields = items.filter((i) => i.depth === 2 && i.at < tbs.end);
  const container = fields.find((i) => i.what.startsWith('cont [ 3 ]'));
  const extensions = container ? items.filter((i) => i.depth === 4 && i.at > container.at && i.at < container.end) : [];
  return { der, tbs: slice(tbs), fields: fields.map(slice), extensions: extensions.map(slice) };
}

function expectSameFacts(pem: string, what: string): CertFacts {
  const ours = facts(pem);
  const theirs = readCert(pem);
  expect({
    subject: parseRfc2253(nameText(ours.subject)),
    issuer: parseRfc2253(nameText(ours.issuer)),
    serial: ours.serial,
    notBefore: ours.notBefore.toISOString(),
    notAfter: ours.notAfter.toISOString(),
    dns: ours.dnsNames,
    ips: ours.ipAddresses,
    keyUsage: ours.keyUsage,
    extKeyUsage: ours.extKeyUsage,
    isCA: ours.isCA,
    skid: colonHex(ours.subjectKeyId),
    akid: colonHex(ours.authorityKeyId),
    key: [ours.publicKey.algorithm, ours.publicKey.bits, ours.publicKey.curve],
  }, what).toEqual({
    subject: utf8(theirs.subjectAttrs),
    issuer: utf8(theirs.issuerAttrs),
    serial: theirs.serial,
    notBefore: theirs.notBefore.toISOString(),
    notAfter: theirs.notAfter.toISOString(),
    dns: theirs.sanDNS,
    ips: theirs.sanIP,
    keyUsage: theirs.keyUsage.map((k) => OPENSSL_KU[k] ?? k),
    extKeyUsage: theirs.extKeyUsage.map((k) => OPENSSL_EKU[k] ?? k),
    isCA: theirs.isCA,
    skid: theirs.subjectKeyId,
    akid: theirs.authorityKeyId,
    key: [theirs.publicKeyAlgorithm === 'rsaEncryption' ? 'RSA' : 'ECDSA', theirs.keyBits,
      theirs.curve === 'prime256v1' ? 'P-256' : undefined],
  });
  // The encoded parts a renewal copies are the certificate's own bytes, where openssl's parser finds them.
  const layout = opensslLayout(pem);
  const versioned = layout.fields[0]?.[0] === 0xa0;
  const [, , issuer, , subject, spki] = layout.fields.slice(versioned ? 1 : 0);
  expect(ours.der.equals(layout.der), what).toBe(true);
  expect(ours.raw.tbs.equals(layout.tbs), `${what}: tbs`).toBe(true);
  expect(ours.raw.subject.equals(subject as Buffer), `${what}: subject bytes`).toBe(true);
  expect(ours.raw.issuer.equals(issuer as Buffer), `${what}: issuer bytes`).toBe(true);
  expect(ours.raw.spki.equals(spki as Buffer), `${what}: spki bytes`).toBe(true);
  expect(ours.raw.extensions.map((e) => e.der.toString('hex')), `${what}: extension bytes`)
    .toEqual(layout.extensions.map((e) => e.toString('hex')));
  return ours;
}

interface Pair {
  name: string;
  caName?: string;
  certPem: string;
  keyPem?: string;
}

function pairsOf(fx: Fixture): Pair[] {
  return fx.entries.map((e) => {
    if (e.kind === 'kubeconfig' && e.kubeconfigPath) {
      const c = extractKubeconfigCredentials(e.kubeconfigPath, fx.root);
      return { name: e.name, caName: 'ca', certPem: c.certPem, keyPem: c.keyPem };
    }
    const pair: Pair = { name: e.name, certPem: readFileSync(e.certPath, 'utf8') };
    if (e.caName) pair.caName = e.caName;
    if (e.keyPath) pair.keyPem = readFileSync(e.keyPath, 'utf8');
    return pair;
  });
}

const variants = {
  'RSA-2048, PKCS#1, kubeadm ≥ 1.29': { reuseKeys: true },
  'ECDSA P-256, PKCS#8, IPv6 advertise address': { keyAlgorithm: 'ecdsa-p256', keyEncoding: 'pkcs8', advertiseAddress: 'fd00:10::2:0:0:5', reuseKeys: true },
  'old-style notBefore (the CA\'s), system:masters': { notBeforeStyle: 'ca', issuedDaysAgo: 30, caIssuedDaysAgo: 1000, clusterAdminsGroup: 'system:masters', kubeletConf: 'embedded', reuseKeys: true },
} satisfies Record<string, FixtureOptions>;

describe('parseCertificate and friends against openssl', () => {
  const base = mkdtempSync(join(tmpdir(), 'kcr-cert-'));
  const trees = {} as Record<keyof typeof variants, Fixture>;
  beforeAll(async () => {
    await Promise.all(Object.entries(variants).map(async ([name, options], i) => {
      trees[name as keyof typeof variants] = await createKubeadmTree(join(base, String(i)), options);
    }));
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it.each(Object.keys(variants))('%s: every certificate reads as openssl reads it', (variant) => {
    const pairs = pairsOf(trees[variant as keyof typeof variants]);
    expect(pairs.length).toBeGreaterThanOrEqual(12);
    for (const p of pairs) expectSameFacts(p.certPem, `${variant}: ${p.name}`);
    if (variant.includes('IPv6')) {
      expect(facts(pairs.find((p) => p.name === 'etcd-server')?.certPem ?? '').ipAddresses).toEqual(['fd00:10::2:0:0:5', '127.0.0.1', '::1']);
    }
  });

  it.each(Object.keys(variants))('%s: signatures and key matches agree with openssl verify and openssl pkey', (variant) => {
    const pairs = pairsOf(trees[variant as keyof typeof variants]);
    const cas = new Map(pairs.filter((p) => !p.caName).map((p) => [p.name, p]));
    const strangerKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    for (const p of pairs.filter((x) => x.caName && x.keyPem)) {
      for (const ca of cas.values()) {
        const expected = verifyChain(ca.certPem, p.certPem, { ignoreTime: true }).ok;
        expect(isSignedBy(facts(p.certPem), facts(ca.certPem)), `${p.name} signed by ${ca.name}`).toBe(expected);
        expect(expected).toBe(ca.name === p.caName);
      }
      const others = pairs.filter((o) => o.keyPem && o.name !== p.name).slice(0, 2).map((o) => o.keyPem as string);
      for (const keyPem of [p.keyPem as string, ...others, strangerKey]) {
        const block = pemBlocks(keyPem).find((b) => KEY_LABELS[b.label]);
        if (!block) throw new Error(`${p.name}: no key block`);
        const ours = keyMatchesCertificate(facts(p.certPem), loadPrivateKey(block.der, KEY_LABELS[block.label] as 'pkcs1'));
        expect(ours, `${p.name}: key match`).toBe(keyMatchesCert(p.certPem, keyPem));
      }
    }
  });
});

describe('odd certificates made with openssl req', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kcr-cert-odd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const make = (args: string[]): string => {
    const out = join(dir, `${Math.random().toString(36).slice(2)}.crt`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', join(dir, 'k.pem'), '-out', out, '-utf8', ...args], { stdio: 'ignore' });
    return readFileSync(out, 'utf8');
  };

  it('an escaped, multi-attribute UTF-8 subject, a GeneralizedTime notAfter and a one-byte serial', () => {
    const pem = make(['-subj', '/O=a\\, b; "c"/O=Zürich+OU=multi/CN=x\\=y\\\\z', '-days', '10000', '-set_serial', '7',
      '-addext', 'subjectAltName=DNS:*.example.test,IP:2001:db8::1,IP:::ffff:7f00:1,email:a@example.test']);
    const ours = expectSameFacts(pem, 'odd');
    expect(ours.serial).toBe('07');
    expect(ours.notAfter.getUTCFullYear()).toBeGreaterThanOrEqual(2050);
    expect(ours.subject.map((a) => a.value).sort()).toEqual(['Zürich', 'a, b; "c"', 'multi', 'x=y\\z']);
  });

  it('a certificate without extensions', () => {
    const pem = make(['-subj', '/CN=plain', '-days', '1', '-config', '/dev/null']);
    const ours = expectSameFacts(pem, 'no extensions');
    expect([ours.keyUsage, ours.extKeyUsage, ours.dnsNames, ours.raw.extensions]).toEqual([[], [], [], []]);
  });

  it('throws on what is not a certificate', () => {
    expect(() => parseCertificate(Buffer.from('30030201ff', 'hex'))).toThrow();
  });
});
