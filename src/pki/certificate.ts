/**
 * Read a certificate into plain facts. One reader: Node's X509Certificate (OpenSSL) for the facts, the signature
 * check and key matching; node-forge's ASN.1 decoder (src/pki/der.ts) only for the encoded subject and extensions a
 * renewal copies, the key usage bits and key identifiers X509Certificate does not expose. Those are decoded on first
 * use, so `status -o table` never loads the codec.
 */
import { type KeyObject, X509Certificate, createPrivateKey } from 'node:crypto';
import * as der from './der.js';
import type { KeyEncoding } from './pem.js';

export const OID = {
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
} as const;

export const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth', '1.3.6.1.5.5.7.3.2': 'clientAuth', '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection', '1.3.6.1.5.5.7.3.8': 'timeStamping', '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
};

const KEY_USAGE_BITS = [
  'digitalSignature', 'contentCommitment', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign',
  'cRLSign', 'encipherOnly', 'decipherOnly',
] as const;

export interface Extension {
  oid: string;
  critical: boolean;
  /** The extnValue contents (DER of the extension's own structure). */
  value: Buffer;
  /** The whole Extension SEQUENCE, to copy it unchanged into a renewed certificate. */
  der: Buffer;
}

export interface NameAttribute {
  type: string;
  value: string;
}

export interface PublicKeyInfo {
  algorithm: 'RSA' | 'ECDSA' | 'other';
  /** RSA modulus bits, or the curve's size for ECDSA (256, 384). */
  bits: number;
  curve?: 'P-256' | 'P-384' | 'P-521';
  nodeType: string;
}

export interface CertFacts {
  der: Buffer;
  subject: NameAttribute[];
  issuer: NameAttribute[];
  serial: string;
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  ipAddresses: string[];
  keyUsage: string[];
  extKeyUsage: string[];
  isCA: boolean;
  subjectKeyId?: Buffer;
  authorityKeyId?: Buffer;
  publicKey: PublicKeyInfo;
  /** Encoded parts a renewal copies verbatim. */
  raw: {
    subject: Buffer;
    issuer: Buffer;
    extensions: Extension[];
    /** SubjectPublicKeyInfo DER. */
    spki: Buffer;
    /** The signed bytes (TBSCertificate DER, exactly as in the certificate). */
    tbs: Buffer;
    signatureAlgorithm: string;
    signature: Buffer;
  };
}

/** RFC 4514 text of a name, most specific first: `CN=system:node:cp-1,O=system:nodes`. */
export function nameText(attrs: NameAttribute[]): string {
  return [...attrs]
    .reverse()
    .map((a) => `${a.type}=${a.value.replace(/([,+"\\<>;])/g, '\\$1')}`)
    .join(',');
}

export function commonName(attrs: NameAttribute[]): string | undefined {
  return attrs.find((a) => a.type === 'CN')?.value;
}

/**
 * A name as X509Certificate prints it (OpenSSL's multi-line form: one RDN a line, in certificate order, RFC 2253
 * escapes plus `\XX` for control bytes) back into attributes.
 */
function parseNameText(text: string): NameAttribute[] {
  const out: NameAttribute[] = [];
  for (const line of text.split('\n')) {
    for (const atv of line.split(/(?<!\\) \+ /)) {
      const eq = atv.indexOf('=');
      if (eq <= 0) continue;
      out.push({ type: atv.slice(0, eq), value: unescapeValue(atv.slice(eq + 1)) });
    }
  }
  return out;
}

function unescapeValue(text: string): string {
  if (!text.includes('\\')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text[i] === '\\' ? /^[0-9A-Fa-f]{2}/.exec(text.slice(i + 1, i + 3)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else {
      if (text[i] === '\\') i++;
      bytes.push(...Buffer.from(text[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** An IP address in RFC 5952 form (IPv6 lowercase, the longest run of zero groups compressed: `2001:db8::1`). */
export function ipText(text: string): string {
  return text.includes(':') ? new URL(`http://[${text}]/`).hostname.slice(1, -1) : text;
}

/** DNS names and IP addresses from X509Certificate's subjectAltName text (Node quotes values that need it). */
function parseSubjectAltName(text: string | undefined): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const m of (text ?? '').matchAll(/([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g)) {
    const value = m[2]?.startsWith('"') ? (JSON.parse(m[2]) as string) : (m[2] ?? '');
    if (m[1] === 'DNS') dnsNames.push(value);
    else if (m[1] === 'IP Address') ipAddresses.push(ipText(value));
  }
  return { dnsNames, ipAddresses };
}

const CURVES: Record<string, { curve: 'P-256' | 'P-384' | 'P-521'; bits: number }> = {
  prime256v1: { curve: 'P-256', bits: 256 },
  secp384r1: { curve: 'P-384', bits: 384 },
  secp521r1: { curve: 'P-521', bits: 521 },
};

function publicKeyInfo(key: KeyObject): PublicKeyInfo {
  const type = key.asymmetricKeyType ?? '';
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa') return { algorithm: 'RSA', bits: details.modulusLength ?? 0, nodeType: type };
  if (type === 'ec') {
    const known = CURVES[details.namedCurve ?? ''];
    return known ? { algorithm: 'ECDSA', ...known, nodeType: type } : { algorithm: 'ECDSA', bits: 0, nodeType: type };
  }
  return { algorithm: 'other', bits: 0, nodeType: type };
}

/** The X509Certificate behind each parsed certificate, for signature checks and key matching. */
const certificates = new WeakMap<CertFacts, X509Certificate>();

function x509Of(cert: CertFacts): X509Certificate {
  let x = certificates.get(cert);
  if (!x) {
    x = new X509Certificate(cert.der);
    certificates.set(cert, x);
  }
  return x;
}

/** Parse one DER certificate. Throws on malformed input; callers turn that into a named problem. */
export function parseCertificate(der: Buffer): CertFacts {
  const x = new X509Certificate(der);
  const decoded = lazy(() => decodeCertificate(der));
  const extension = lazy(() => extensionFacts(decoded()));
  const raw = lazy(() => rawParts(decoded()));
  const facts: Omit<CertFacts, 'raw' | 'keyUsage' | 'subjectKeyId' | 'authorityKeyId'> = {
    der,
    subject: parseNameText(x.subject),
    issuer: parseNameText(x.issuer),
    serial: x.serialNumber.toUpperCase(),
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    ...parseSubjectAltName(x.subjectAltName),
    extKeyUsage: (x.keyUsage ?? []).map((oid) => EKU_NAMES[oid] ?? oid),
    isCA: x.ca,
    publicKey: publicKeyInfo(x.publicKey),
  };
  if (Number.isNaN(facts.notBefore.getTime()) || Number.isNaN(facts.notAfter.getTime())) {
    throw new Error(`unreadable validity (${x.validFrom} – ${x.validTo})`);
  }
  Object.defineProperties(facts, {
    raw: { get: raw, enumerable: true },
    keyUsage: { get: () => extension().keyUsage, enumerable: true },
    subjectKeyId: { get: () => extension().subjectKeyId, enumerable: true },
    authorityKeyId: { get: () => extension().authorityKeyId, enumerable: true },
  });
  certificates.set(facts as CertFacts, x);
  return facts as CertFacts;
}

function lazy<T>(make: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: make() }).v;
}

interface Decoded {
  tbs: der.Asn1;
  sigAlg: der.Asn1;
  sigBits: der.Asn1;
  issuer: der.Asn1;
  subject: der.Asn1;
  spki: der.Asn1;
  extensions: der.Asn1[];
}

/**
 * The certificate through node-forge's decoder. Its re-encoding must give back the exact bytes (no BER such as an
 * indefinite length), so every part a renewal copies is byte-for-byte what the certificate holds.
 */
function decodeCertificate(certDer: Buffer): Decoded {
  const cert = der.decodeDer(certDer);
  if (!der.encodeDer(cert).equals(certDer)) throw new Error('the certificate is not in canonical DER');
  const [tbs, sigAlg, sigBits] = der.children(cert);
  if (!tbs || !sigAlg || !sigBits) throw new Error('not an X.509 certificate');
  const fields = der.children(tbs);
  const [, , issuer, , subject, spki] = fields.slice(isContext(fields[0], 0) ? 1 : 0);
  if (!issuer || !subject || !spki) throw new Error('incomplete TBSCertificate');
  const list = fields.find((f) => isContext(f, 3));
  const extensions = list ? der.children(der.children(list)[0] as der.Asn1) : [];
  return { tbs, sigAlg, sigBits, issuer, subject, spki, extensions };
}

interface ExtensionFacts {
  keyUsage: string[];
  subjectKeyId?: Buffer;
  authorityKeyId?: Buffer;
}

/** Key usage bits and key identifiers, which X509Certificate does not expose. */
function extensionFacts(d: Decoded): ExtensionFacts {
  const facts: ExtensionFacts = { keyUsage: [] };
  for (const ext of d.extensions) {
    const parts = der.children(ext);
    const oid = der.oidText(parts[0] as der.Asn1);
    const value = der.decodeDer(der.bytesOf(parts[parts.length - 1] as der.Asn1));
    if (oid === OID.keyUsage) {
      const bits = der.bytesOf(value).subarray(1);
      facts.keyUsage = KEY_USAGE_BITS.filter((_, i) => ((bits[i >> 3] ?? 0) >> (7 - (i & 7))) & 1);
    } else if (oid === OID.subjectKeyIdentifier) {
      facts.subjectKeyId = der.bytesOf(value);
    } else if (oid === OID.authorityKeyIdentifier) {
      const keyId = der.children(value).find((c) => isContext(c, 0));
      if (keyId) facts.authorityKeyId = der.bytesOf(keyId);
    }
  }
  return facts;
}

/** The encoded parts a renewal copies (decodeCertificate checked they re-encode to the certificate's bytes). */
function rawParts(d: Decoded): CertFacts['raw'] {
  return {
    subject: der.encodeDer(d.subject),
    issuer: der.encodeDer(d.issuer),
    extensions: d.extensions.map(extensionOf),
    spki: der.encodeDer(d.spki),
    tbs: der.encodeDer(d.tbs),
    signatureAlgorithm: der.oidText(der.children(d.sigAlg)[0] as der.Asn1),
    signature: der.bytesOf(d.sigBits).subarray(1),
  };
}

function isContext(node: der.Asn1 | undefined, tag: number): boolean {
  return node !== undefined && node.tagClass === 0x80 && node.type === tag;
}

function extensionOf(ext: der.Asn1): Extension {
  const parts = der.children(ext);
  const critical = parts.length === 3 && der.bytesOf(parts[1] as der.Asn1)[0] !== 0;
  return {
    oid: der.oidText(parts[0] as der.Asn1),
    critical,
    value: der.bytesOf(parts[parts.length - 1] as der.Asn1),
    der: der.encodeDer(ext),
  };
}

/** Whether `cert` was issued by `ca`: OpenSSL's issuer check (names, key identifiers) and the signature. */
export function isSignedBy(cert: CertFacts, ca: CertFacts): boolean {
  try {
    const x = x509Of(cert);
    const issuer = x509Of(ca);
    return x.checkIssued(issuer) && x.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** Whether a private key (a KeyObject, e.g. one just generated) belongs to a certificate. */
export function keyMatchesCertificate(cert: CertFacts, key: KeyObject): boolean {
  try {
    return x509Of(cert).checkPrivateKey(key);
  } catch {
    return false;
  }
}

/** An encoded private key as a KeyObject. Throws on a malformed key. */
export function loadPrivateKey(keyDer: Buffer, encoding: KeyEncoding): KeyObject {
  return createPrivateKey({ key: keyDer, format: 'der', type: encoding });
}
