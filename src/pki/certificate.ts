/**
 * Read a certificate into plain facts. Dates, serial, subject, extensions come from the DER itself; the public key,
 * signature checks and key matching go through node:crypto.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import asn1 from 'node-forge/lib/asn1.js';
import { type Asn1, Class, Type, bytesOf, children, decodeDer, oidOf } from './der.js';

export const OID = {
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
} as const;

const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber', '1.2.840.113549.1.9.1': 'emailAddress',
};

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
  fingerprint256: string;
  /** Encoded parts a renewal copies verbatim. */
  raw: { subject: Buffer; issuer: Buffer; extensions: Extension[] };
  x509: X509Certificate;
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

function parseName(node: Asn1): NameAttribute[] {
  const out: NameAttribute[] = [];
  for (const rdn of children(node)) {
    for (const atv of children(rdn)) {
      const [type, value] = children(atv);
      if (!type || !value) continue;
      const oid = oidOf(type);
      const raw = bytesOf(value);
      // BMPString is UTF-16BE; everything else kubeadm writes is UTF-8 or a subset.
      const text = value.type === Type.BMPSTRING ? raw.swap16().toString('utf16le') : raw.toString('utf8');
      out.push({ type: ATTRIBUTE_NAMES[oid] ?? oid, value: text });
    }
  }
  return out;
}

function parseTime(node: Asn1): Date {
  const text = node.value as string;
  return node.type === Type.UTCTIME ? asn1.utcTimeToDate(text) : asn1.generalizedTimeToDate(text);
}

function ipText(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: string[] = [];
  for (let i = 0; i < bytes.length; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // Compress the longest run of zero groups, as inet_ntop does.
  const joined = groups.join(':');
  const runs = [...joined.matchAll(/(?:^|:)0(?::0)+(?::|$)/g)].sort((a, b) => b[0].length - a[0].length);
  const best = runs[0];
  if (!best) return joined;
  return `${joined.slice(0, best.index)}::${joined.slice((best.index ?? 0) + best[0].length)}`;
}

function parseExtensions(node: Asn1 | undefined): Extension[] {
  if (!node) return [];
  const [seq] = children(node);
  if (!seq) return [];
  return children(seq).map((ext) => {
    const parts = children(ext);
    const critical = parts.length === 3 && (parts[1]?.value as string) !== '\x00';
    const valueNode = parts[parts.length - 1];
    return {
      oid: oidOf(parts[0] as Asn1),
      critical,
      value: valueNode ? bytesOf(valueNode) : Buffer.alloc(0),
      der: Buffer.from(asn1.toDer(ext).getBytes(), 'binary'),
    };
  });
}

function publicKeyInfo(key: KeyObject): PublicKeyInfo {
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa') return { algorithm: 'RSA', bits: details.modulusLength ?? 0, nodeType: type };
  if (type === 'ec') {
    const curve = ({ prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' } as const)[
      (details.namedCurve ?? '') as 'prime256v1'
    ];
    const bits = { 'P-256': 256, 'P-384': 384, 'P-521': 521 }[curve ?? 'P-256'];
    return curve ? { algorithm: 'ECDSA', bits, curve, nodeType: type } : { algorithm: 'ECDSA', bits: 0, nodeType: type };
  }
  return { algorithm: 'other', bits: 0, nodeType: type };
}

/** Parse one DER certificate. Throws on malformed input; callers turn that into a named problem. */
export function parseCertificate(der: Buffer): CertFacts {
  const x509 = new X509Certificate(der);
  const cert = decodeDer(der);
  const [tbs] = children(cert);
  if (!tbs) throw new Error('not an X.509 certificate');
  const fields = children(tbs);
  const offset = fields[0]?.tagClass === Class.CONTEXT_SPECIFIC && fields[0]?.type === 0 ? 1 : 0;
  const [serialNode, , issuerNode, validityNode, subjectNode] = fields.slice(offset);
  if (!serialNode || !issuerNode || !validityNode || !subjectNode) throw new Error('incomplete TBSCertificate');
  const extensionsNode = fields.find((f) => f.tagClass === Class.CONTEXT_SPECIFIC && f.type === 3);
  const extensions = parseExtensions(extensionsNode);
  const [notBeforeNode, notAfterNode] = children(validityNode);

  const facts: CertFacts = {
    der,
    subject: parseName(subjectNode),
    issuer: parseName(issuerNode),
    serial: bytesOf(serialNode).toString('hex').replace(/^(00)+(?=.)/, '').toUpperCase(),
    notBefore: parseTime(notBeforeNode as Asn1),
    notAfter: parseTime(notAfterNode as Asn1),
    dnsNames: [],
    ipAddresses: [],
    keyUsage: [],
    extKeyUsage: [],
    isCA: false,
    publicKey: publicKeyInfo(x509.publicKey),
    fingerprint256: x509.fingerprint256,
    raw: {
      subject: Buffer.from(asn1.toDer(subjectNode).getBytes(), 'binary'),
      issuer: Buffer.from(asn1.toDer(issuerNode).getBytes(), 'binary'),
      extensions,
    },
    x509,
  };

  for (const ext of extensions) {
    const value = decodeDer(ext.value);
    switch (ext.oid) {
      case OID.subjectAltName:
        for (const gn of children(value)) {
          if (gn.type === 2) facts.dnsNames.push(bytesOf(gn).toString('latin1'));
          else if (gn.type === 7) facts.ipAddresses.push(ipText(bytesOf(gn)));
        }
        break;
      case OID.keyUsage: {
        const bits = bytesOf(value).subarray(1);
        KEY_USAGE_BITS.forEach((name, i) => {
          if (((bits[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) facts.keyUsage.push(name);
        });
        break;
      }
      case OID.extKeyUsage:
        facts.extKeyUsage = children(value).map((o) => {
          const dotted = oidOf(o);
          return EKU_NAMES[dotted] ?? dotted;
        });
        break;
      case OID.basicConstraints: {
        const first = children(value)[0];
        facts.isCA = first?.type === Type.BOOLEAN && (first.value as string) !== '\x00';
        break;
      }
      case OID.subjectKeyIdentifier:
        facts.subjectKeyId = bytesOf(value);
        break;
      case OID.authorityKeyIdentifier: {
        const keyId = children(value).find((c) => c.tagClass === Class.CONTEXT_SPECIFIC && c.type === 0);
        if (keyId) facts.authorityKeyId = bytesOf(keyId);
        break;
      }
    }
  }
  return facts;
}

/** Whether `cert` was issued by `ca`: names chain and the signature verifies with the CA's public key. */
export function isSignedBy(cert: CertFacts, ca: CertFacts): boolean {
  try {
    return cert.x509.checkIssued(ca.x509) && cert.x509.verify(ca.x509.publicKey);
  } catch {
    return false;
  }
}

/** Whether a private key belongs to a certificate. */
export function keyMatchesCertificate(cert: CertFacts, key: KeyObject): boolean {
  try {
    return cert.x509.checkPrivateKey(key);
  } catch {
    return false;
  }
}
