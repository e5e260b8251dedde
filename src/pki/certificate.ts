/**
 * Read a certificate into plain facts, from its DER alone (src/pki/der-reader.ts): dates, serial, names,
 * extensions, public key type and size. Signatures are checked with node:crypto over the exact signed bytes.
 * Parsing does not go through OpenSSL's X509 object: `status` reads a dozen certificates at start-up and that
 * path costs about a millisecond a certificate there.
 */
import { type KeyObject, X509Certificate, createPrivateKey, createPublicKey, verify } from 'node:crypto';
import {
  type DerNode, UNIVERSAL, bitStringBytes, childrenOf, isContext, isUniversal, oidText, readDer, timeValue,
} from './der-reader.js';
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
  /** Encoded parts a renewal copies verbatim, and what signature checks need. */
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

function parseName(node: DerNode): NameAttribute[] {
  const out: NameAttribute[] = [];
  for (const rdn of childrenOf(node)) {
    for (const atv of childrenOf(rdn)) {
      const [type, value] = childrenOf(atv);
      if (!type || !value) continue;
      const oid = oidText(type);
      // BMPString is UTF-16BE; everything else kubeadm writes is UTF-8 or a subset.
      const text = value.tag === UNIVERSAL.BMPString ? Buffer.from(value.value).swap16().toString('utf16le') : value.value.toString('utf8');
      out.push({ type: ATTRIBUTE_NAMES[oid] ?? oid, value: text });
    }
  }
  return out;
}

/** An IP address as inet_ntop writes it (IPv6 with its longest run of zero groups compressed). */
export function ipText(bytes: Buffer): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const groups: number[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) groups.push(bytes.readUInt16BE(i));
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(groups);
  return `${hex(groups.slice(0, bestAt))}::${hex(groups.slice(bestAt + bestLen))}`;
}

function parseExtensions(node: DerNode | undefined): Extension[] {
  const [seq] = node ? childrenOf(node) : [];
  if (!seq) return [];
  return childrenOf(seq).map((ext) => {
    const parts = childrenOf(ext);
    const critical = parts.length === 3 && isUniversal(parts[1], UNIVERSAL.BOOLEAN) && parts[1].value[0] !== 0;
    const valueNode = parts[parts.length - 1];
    return {
      oid: oidText(parts[0] as DerNode),
      critical,
      value: valueNode ? valueNode.value : Buffer.alloc(0),
      der: ext.raw,
    };
  });
}

const CURVE_OIDS: Record<string, { curve: 'P-256' | 'P-384' | 'P-521'; bits: number }> = {
  '1.2.840.10045.3.1.7': { curve: 'P-256', bits: 256 },
  '1.3.132.0.34': { curve: 'P-384', bits: 384 },
  '1.3.132.0.35': { curve: 'P-521', bits: 521 },
};
const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';

function integerBits(n: Buffer): number {
  const leading = n.findIndex((b) => b !== 0);
  return leading < 0 ? 0 : (n.length - leading - 1) * 8 + (32 - Math.clz32(n[leading] as number));
}

/** Algorithm and size from a SubjectPublicKeyInfo. */
function publicKeyInfo(spki: DerNode): PublicKeyInfo {
  const [algId, bits] = childrenOf(spki);
  const [algOid, params] = algId ? childrenOf(algId) : [];
  const alg = algOid ? oidText(algOid) : '';
  if (alg === RSA_ENCRYPTION && bits) {
    const [modulus] = childrenOf(readDer(bitStringBytes(bits)));
    return { algorithm: 'RSA', bits: modulus ? integerBits(modulus.value) : 0, nodeType: 'rsa' };
  }
  if (alg === EC_PUBLIC_KEY) {
    const known = isUniversal(params, UNIVERSAL.OID) ? CURVE_OIDS[oidText(params)] : undefined;
    return known ? { algorithm: 'ECDSA', ...known, nodeType: 'ec' } : { algorithm: 'ECDSA', bits: 0, nodeType: 'ec' };
  }
  return { algorithm: 'other', bits: 0, nodeType: alg };
}

/** Parse one DER certificate. Throws on malformed input; callers turn that into a named problem. */
export function parseCertificate(der: Buffer): CertFacts {
  const [tbs, sigAlg, sigBits] = childrenOf(readDer(der));
  if (!tbs || !sigAlg || !sigBits) throw new Error('not an X.509 certificate');
  const fields = childrenOf(tbs);
  const offset = isContext(fields[0], 0) ? 1 : 0;
  const [serialNode, , issuerNode, validityNode, subjectNode, spkiNode] = fields.slice(offset);
  if (!serialNode || !issuerNode || !validityNode || !subjectNode || !spkiNode) throw new Error('incomplete TBSCertificate');
  const extensions = parseExtensions(fields.find((f) => isContext(f, 3)));
  const [notBeforeNode, notAfterNode] = childrenOf(validityNode);
  if (!notBeforeNode || !notAfterNode) throw new Error('incomplete validity');

  const facts: CertFacts = {
    der,
    subject: parseName(subjectNode),
    issuer: parseName(issuerNode),
    serial: serialNode.value.toString('hex').replace(/^(00)+(?=.)/, '').toUpperCase(),
    notBefore: timeValue(notBeforeNode),
    notAfter: timeValue(notAfterNode),
    dnsNames: [],
    ipAddresses: [],
    keyUsage: [],
    extKeyUsage: [],
    isCA: false,
    publicKey: publicKeyInfo(spkiNode),
    raw: {
      subject: subjectNode.raw,
      issuer: issuerNode.raw,
      extensions,
      spki: spkiNode.raw,
      tbs: tbs.raw,
      signatureAlgorithm: oidText(childrenOf(sigAlg)[0] as DerNode),
      signature: bitStringBytes(sigBits),
    },
  };

  for (const ext of extensions) {
    const value = readDer(ext.value);
    switch (ext.oid) {
      case OID.subjectAltName:
        for (const gn of childrenOf(value)) {
          if (isContext(gn, 2)) facts.dnsNames.push(gn.value.toString('latin1'));
          else if (isContext(gn, 7)) facts.ipAddresses.push(ipText(gn.value));
        }
        break;
      case OID.keyUsage: {
        const bits = bitStringBytes(value);
        KEY_USAGE_BITS.forEach((name, i) => {
          if (((bits[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) facts.keyUsage.push(name);
        });
        break;
      }
      case OID.extKeyUsage:
        facts.extKeyUsage = childrenOf(value).map((o) => {
          const dotted = oidText(o);
          return EKU_NAMES[dotted] ?? dotted;
        });
        break;
      case OID.basicConstraints: {
        const first = childrenOf(value)[0];
        facts.isCA = isUniversal(first, UNIVERSAL.BOOLEAN) && first.value[0] !== 0;
        break;
      }
      case OID.subjectKeyIdentifier:
        facts.subjectKeyId = value.value;
        break;
      case OID.authorityKeyIdentifier: {
        const keyId = childrenOf(value).find((c) => isContext(c, 0));
        if (keyId) facts.authorityKeyId = keyId.value;
        break;
      }
    }
  }
  return facts;
}

const SIGNATURE_HASHES: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1', '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512', '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

const publicKeys = new WeakMap<CertFacts, KeyObject>();

/** The certificate's public key as a KeyObject (made once per certificate). */
export function publicKeyOf(cert: CertFacts): KeyObject {
  let key = publicKeys.get(cert);
  if (!key) {
    key = createPublicKey({ key: cert.raw.spki, format: 'der', type: 'spki' });
    publicKeys.set(cert, key);
  }
  return key;
}

/** Whether `cert` was issued by `ca`: the issuer is the CA's subject and the signature verifies with its key. */
export function isSignedBy(cert: CertFacts, ca: CertFacts): boolean {
  if (!cert.raw.issuer.equals(ca.raw.subject)) return false;
  try {
    const hash = SIGNATURE_HASHES[cert.raw.signatureAlgorithm];
    // Anything else (RSASSA-PSS, Ed25519) goes through OpenSSL's own certificate check.
    if (!hash) return new X509Certificate(cert.der).verify(publicKeyOf(ca));
    return verify(hash, cert.raw.tbs, publicKeyOf(ca), cert.raw.signature);
  } catch {
    return false;
  }
}

/** Whether a private key (a KeyObject, e.g. one just generated) belongs to a certificate. */
export function keyMatchesCertificate(cert: CertFacts, key: KeyObject): boolean {
  try {
    return createPublicKey(key).export({ type: 'spki', format: 'der' }).equals(cert.raw.spki);
  } catch {
    return false;
  }
}

/** The public half an encoded private key carries: RSA's modulus and exponent, EC's public point. */
function publicPartOfPrivateKey(der: Buffer, encoding: KeyEncoding): Buffer[] | undefined {
  const parts = childrenOf(readDer(der));
  if (encoding === 'pkcs1') {
    const [, n, e] = parts;
    return n && e ? [n.value, e.value] : undefined;
  }
  if (encoding === 'sec1') {
    const pub = parts.find((p) => isContext(p, 1));
    const bits = pub ? childrenOf(pub)[0] : undefined;
    return bits ? [bits.value] : undefined;
  }
  const [, algId, inner] = parts;
  const algOid = algId ? childrenOf(algId)[0] : undefined;
  const alg = algOid ? oidText(algOid) : '';
  if (!inner) return undefined;
  if (alg === RSA_ENCRYPTION) return publicPartOfPrivateKey(inner.value, 'pkcs1');
  if (alg === EC_PUBLIC_KEY) return publicPartOfPrivateKey(inner.value, 'sec1');
  return undefined;
}

function publicPartOfSpki(spki: Buffer): Buffer[] {
  const [algId, bits] = childrenOf(readDer(spki));
  const algOid = algId ? childrenOf(algId)[0] : undefined;
  if (!bits || !algOid) return [];
  if (oidText(algOid) === RSA_ENCRYPTION) {
    const [n, e] = childrenOf(readDer(bitStringBytes(bits)));
    return n && e ? [n.value, e.value] : [];
  }
  return [bits.value];
}

/**
 * Whether an encoded private key belongs to a certificate, by comparing the public half the key carries with the
 * certificate's public key (what `openssl x509 -modulus` / `openssl rsa -modulus` comparisons do), without loading
 * the key into OpenSSL. Keys that carry no public half are loaded and compared natively. Throws on a malformed key.
 */
export function encodedKeyMatchesCertificate(cert: CertFacts, keyDer: Buffer, encoding: KeyEncoding): boolean {
  const fromKey = publicPartOfPrivateKey(keyDer, encoding);
  if (!fromKey) return keyMatchesCertificate(cert, createPrivateKey({ key: keyDer, format: 'der', type: encoding }));
  const fromCert = publicPartOfSpki(cert.raw.spki);
  return fromKey.length === fromCert.length && fromKey.every((b, i) => b.equals(fromCert[i] as Buffer));
}
