/**
 * DER encoding and decoding through node-forge's ASN.1 codec. node-forge is used only as a codec: to build the
 * certificates renewal issues, and to take out of a certificate the encoded subject and extensions renewal copies.
 * Certificate facts, keys and signatures go through node:crypto (native, and the only path with ECDSA).
 * The codec is loaded on first use: `status` never needs it.
 */
import type forge from 'node-forge';

export type Asn1 = forge.asn1.Asn1;

let codec: { asn1: typeof forge.asn1; util: typeof forge.util } | undefined;
function forgeAsn1(): typeof forge.asn1 {
  codec ??= {
    asn1: require('node-forge/lib/asn1.js') as typeof forge.asn1,
    util: require('node-forge/lib/util.js') as typeof forge.util,
  };
  return codec.asn1;
}

export function decodeDer(der: Buffer): Asn1 {
  const asn1 = forgeAsn1();
  // node-forge's typings only know the old boolean form of the options argument.
  const options = { strict: true, parseAllBytes: true, decodeBitStrings: false } as unknown as boolean;
  return asn1.fromDer((codec as NonNullable<typeof codec>).util.createBuffer(der.toString('binary')), options);
}

export function encodeDer(node: Asn1): Buffer {
  return Buffer.from(forgeAsn1().toDer(node).getBytes(), 'binary');
}

// node-forge's tag classes and universal tag numbers (X.690), so that naming them does not load the codec.
const UNIVERSAL = 0x00;
const CONTEXT = 0x80;
const T = {
  BOOLEAN: 1, INTEGER: 2, BITSTRING: 3, OCTETSTRING: 4, NULL: 5, OID: 6, UTF8: 12, SEQUENCE: 16, SET: 17, UTCTIME: 23,
  GENERALIZEDTIME: 24,
} as const;

function create(cls: number, type: number, constructed: boolean, value: string | Asn1[]): Asn1 {
  return forgeAsn1().create(cls as forge.asn1.Class, type, constructed, value);
}

export function children(node: Asn1): Asn1[] {
  return Array.isArray(node.value) ? node.value : [];
}

export function bytesOf(node: Asn1): Buffer {
  return typeof node.value === 'string' ? Buffer.from(node.value, 'binary') : Buffer.alloc(0);
}

export function sequence(items: Asn1[]): Asn1 {
  return create(UNIVERSAL, T.SEQUENCE, true, items);
}

export function set(items: Asn1[]): Asn1 {
  return create(UNIVERSAL, T.SET, true, items);
}

export function utf8String(text: string): Asn1 {
  return create(UNIVERSAL, T.UTF8, false, Buffer.from(text, 'utf8').toString('binary'));
}

export function oid(dotted: string): Asn1 {
  return create(UNIVERSAL, T.OID, false, forgeAsn1().oidToDer(dotted).getBytes());
}

export function integer(bytes: Buffer): Asn1 {
  return create(UNIVERSAL, T.INTEGER, false, bytes.toString('binary'));
}

export function smallInteger(n: number): Asn1 {
  return create(UNIVERSAL, T.INTEGER, false, forgeAsn1().integerToDer(n).getBytes());
}

export function octetString(bytes: Buffer): Asn1 {
  return create(UNIVERSAL, T.OCTETSTRING, false, bytes.toString('binary'));
}

export function bitString(bytes: Buffer, unusedBits = 0): Asn1 {
  return create(UNIVERSAL, T.BITSTRING, false, String.fromCharCode(unusedBits) + bytes.toString('binary'));
}

export function boolean(v: boolean): Asn1 {
  return create(UNIVERSAL, T.BOOLEAN, false, String.fromCharCode(v ? 0xff : 0));
}

export function nullValue(): Asn1 {
  return create(UNIVERSAL, T.NULL, false, '');
}

export function explicit(tag: number, inner: Asn1): Asn1 {
  return create(CONTEXT, tag, true, [inner]);
}

export function implicitPrimitive(tag: number, bytes: Buffer): Asn1 {
  return create(CONTEXT, tag, false, bytes.toString('binary'));
}

/** X.509 time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
export function time(date: Date): Asn1 {
  if (date.getUTCFullYear() < 2050) {
    return create(UNIVERSAL, T.UTCTIME, false, forgeAsn1().dateToUtcTime(date));
  }
  return create(UNIVERSAL, T.GENERALIZEDTIME, false, forgeAsn1().dateToGeneralizedTime(date));
}

/** An OBJECT IDENTIFIER's dotted text. */
export function oidText(node: Asn1): string {
  return forgeAsn1().derToOid(typeof node.value === 'string' ? node.value : '');
}
