/**
 * A DER reader over Buffers, for parsing certificates and keys at start-up. Reading needs only tag/length/value
 * walking; node-forge (used to build certificates, src/pki/der.ts) decodes through binary strings and costs ~10 ms
 * to load, which `status` cannot afford on every invocation. Every certificate this reads in tests is checked
 * against openssl's reading of the same file.
 */

export const enum TagClass {
  Universal = 0,
  Application = 1,
  Context = 2,
  Private = 3,
}

export interface DerNode {
  cls: TagClass;
  constructed: boolean;
  /** Tag number (low-tag-number form: DER in certificates never needs more). */
  tag: number;
  /** The whole element: tag, length and contents. */
  raw: Buffer;
  /** The contents octets. */
  value: Buffer;
}

export const UNIVERSAL = {
  BOOLEAN: 1, INTEGER: 2, BIT_STRING: 3, OCTET_STRING: 4, NULL: 5, OID: 6, UTF8String: 12, SEQUENCE: 16, SET: 17,
  PrintableString: 19, T61String: 20, IA5String: 22, UTCTime: 23, GeneralizedTime: 24, BMPString: 30,
} as const;

function malformed(at: number, what: string): never {
  throw new Error(`malformed DER at byte ${at}: ${what}`);
}

/** The element starting at `offset` of `buf`. */
export function readElement(buf: Buffer, offset = 0): DerNode {
  if (offset + 2 > buf.length) malformed(offset, 'truncated header');
  const first = buf[offset] as number;
  if ((first & 0x1f) === 0x1f) malformed(offset, 'high tag numbers are not used in certificates');
  let len = buf[offset + 1] as number;
  let at = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) malformed(offset, 'unsupported length');
    if (at + n > buf.length) malformed(offset, 'truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[at + i] as number);
    at += n;
  }
  if (at + len > buf.length) malformed(offset, 'contents run past the end');
  return {
    cls: (first >> 6) as TagClass,
    constructed: (first & 0x20) !== 0,
    tag: first & 0x1f,
    raw: buf.subarray(offset, at + len),
    value: buf.subarray(at, at + len),
  };
}

/** Parse a whole buffer holding exactly one element. */
export function readDer(buf: Buffer): DerNode {
  const node = readElement(buf, 0);
  if (node.raw.length !== buf.length) malformed(node.raw.length, 'trailing bytes');
  return node;
}

/** The elements inside a constructed element. */
export function childrenOf(node: DerNode): DerNode[] {
  if (!node.constructed) return [];
  const out: DerNode[] = [];
  for (let at = 0; at < node.value.length; ) {
    const child = readElement(node.value, at);
    out.push(child);
    at += child.raw.length;
  }
  return out;
}

export function isUniversal(node: DerNode | undefined, tag: number): node is DerNode {
  return node !== undefined && node.cls === TagClass.Universal && node.tag === tag;
}

export function isContext(node: DerNode | undefined, tag: number): boolean {
  return node !== undefined && node.cls === TagClass.Context && node.tag === tag;
}

export function oidText(node: DerNode): string {
  const v = node.value;
  if (v.length === 0) malformed(0, 'empty OID');
  const first = v[0] as number;
  const parts = [Math.min(2, Math.floor(first / 40)), first - Math.min(2, Math.floor(first / 40)) * 40];
  let n = 0;
  for (let i = 1; i < v.length; i++) {
    const b = v[i] as number;
    n = n * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(n);
      n = 0;
    }
  }
  return parts.join('.');
}

/** UTCTime (YYMMDDHHMMSSZ, years 1950–2049) or GeneralizedTime (YYYYMMDDHHMMSS[.fff]Z). */
export function timeValue(node: DerNode): Date {
  const s = node.value.toString('latin1');
  const m = node.tag === UNIVERSAL.UTCTime
    ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/.exec(s)
    : /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(?:\.\d+)?Z$/.exec(s);
  if (!m) malformed(0, `time ${JSON.stringify(s)}`);
  let year = Number(m[1]);
  if (node.tag === UNIVERSAL.UTCTime) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
}

/** A BIT STRING's bits, without the unused-bits byte. */
export function bitStringBytes(node: DerNode): Buffer {
  return node.value.subarray(1);
}
