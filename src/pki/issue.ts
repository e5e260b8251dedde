/**
 * Issue certificates. A renewal keeps the identity of the old certificate (subject, SAN and extended key usages,
 * copied as encoded), with a new key, a new serial, kubeadm's leaf key usage and basic constraints, signed natively
 * by the CA key.
 *
 * The TBSCertificate is assembled with node-forge's ASN.1 codec and signed with node:crypto. node-forge's own
 * certificate API signs only with RSA, in JavaScript; this path is native and covers RSA and ECDSA CAs alike.
 */
import { type KeyObject, createHash, randomBytes, sign } from 'node:crypto';
import { type CertFacts, OID } from './certificate.js';
import * as der from './der.js';
import { toPem } from './pem.js';

const SIGNATURE: Record<string, { oid: string; hash: string; params: boolean }> = {
  rsa: { oid: '1.2.840.113549.1.1.11', hash: 'sha256', params: true },
  'ec:prime256v1': { oid: '1.2.840.10045.4.3.2', hash: 'sha256', params: false },
  'ec:secp384r1': { oid: '1.2.840.10045.4.3.3', hash: 'sha384', params: false },
  'ec:secp521r1': { oid: '1.2.840.10045.4.3.4', hash: 'sha512', params: false },
};

function signatureAlgorithm(signer: KeyObject): { oid: string; hash: string; params: boolean } {
  const type = signer.asymmetricKeyType;
  const key = type === 'rsa' ? 'rsa' : `ec:${signer.asymmetricKeyDetails?.namedCurve ?? ''}`;
  const alg = SIGNATURE[key];
  if (!alg) throw new Error(`a ${type} key cannot sign certificates here`);
  return alg;
}

export function randomSerial(): Buffer {
  const b = randomBytes(16);
  b[0] = ((b[0] ?? 0) & 0x3f) | 0x40; // positive, no leading zero byte
  return b;
}

export function extension(oid: string, critical: boolean, value: der.Asn1): der.Asn1 {
  const parts = [der.oid(oid)];
  if (critical) parts.push(der.boolean(true));
  parts.push(der.octetString(der.encodeDer(value)));
  return der.sequence(parts);
}

/** digitalSignature (bit 0) + keyEncipherment (bit 2), as kubeadm sets on every leaf. */
export function leafKeyUsage(): der.Asn1 {
  return extension(OID.keyUsage, true, der.bitString(Buffer.from([0xa0]), 5));
}

export function authorityKeyId(keyId: Buffer): der.Asn1 {
  // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }
  return extension(OID.authorityKeyIdentifier, false, der.sequence([der.implicitPrimitive(0, keyId)]));
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey bits. */
export function subjectKeyId(publicKey: KeyObject): Buffer {
  const spki = der.decodeDer(publicKey.export({ type: 'spki', format: 'der' }));
  const bits = der.bytesOf(der.children(spki)[1] as der.Asn1).subarray(1);
  return createHash('sha1').update(bits).digest();
}

export interface TbsFields {
  serial?: Buffer;
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  extensions: der.Asn1[];
  signer: KeyObject;
}

/** Assemble, sign and encode a certificate. */
export function signCertificate(f: TbsFields): string {
  const alg = signatureAlgorithm(f.signer);
  const algId = der.sequence(alg.params ? [der.oid(alg.oid), der.nullValue()] : [der.oid(alg.oid)]);
  const tbs = der.sequence([
    der.explicit(0, der.smallInteger(2)),
    der.integer(f.serial ?? randomSerial()),
    algId,
    der.decodeDer(f.issuer),
    der.sequence([der.time(f.notBefore), der.time(f.notAfter)]),
    der.decodeDer(f.subject),
    der.decodeDer(f.publicKey.export({ type: 'spki', format: 'der' })),
    der.explicit(3, der.sequence(f.extensions)),
  ]);
  const tbsDer = der.encodeDer(tbs);
  const signature = sign(alg.hash, tbsDer, f.signer);
  return toPem('CERTIFICATE', der.encodeDer(der.sequence([tbs, algId, der.bitString(signature)])));
}

export interface RenewRequest {
  template: CertFacts;
  publicKey: KeyObject;
  ca: CertFacts;
  caKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
}

/** The renewed certificate as PEM: the template's identity, the new key, signed by the CA. */
export function issueCertificate(req: RenewRequest): string {
  const copied = (oid: string): der.Asn1[] => {
    const ext = req.template.raw.extensions.find((e) => e.oid === oid);
    return ext ? [der.decodeDer(ext.der)] : [];
  };
  const extensions = [
    leafKeyUsage(),
    ...copied(OID.extKeyUsage),
    extension(OID.basicConstraints, true, der.sequence([])),
    ...(req.ca.subjectKeyId ? [authorityKeyId(req.ca.subjectKeyId)] : []),
    ...copied(OID.subjectAltName),
  ];
  return signCertificate({
    issuer: req.ca.raw.subject,
    subject: req.template.raw.subject,
    notBefore: req.notBefore,
    notAfter: req.notAfter,
    publicKey: req.publicKey,
    extensions,
    signer: req.caKey,
  });
}
