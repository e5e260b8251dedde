import { describe, expect, it } from 'vitest';
import { childrenOf, oidText, readDer, timeValue } from './der-reader.js';
import { ipText } from './certificate.js';
import * as der from './der.js';

describe('readDer', () => {
  it('reads what node-forge encodes: nesting, OIDs, long lengths, times', () => {
    const big = Buffer.alloc(300, 7);
    const encoded = der.encodeDer(der.sequence([
      der.oid('1.2.840.113549.1.1.11'),
      der.octetString(big),
      der.time(new Date('2049-12-31T23:59:59Z')),
      der.time(new Date('2050-01-01T00:00:00Z')),
      der.explicit(3, der.sequence([der.oid('2.5.29.17')])),
    ]));
    const [oid, octets, utc, generalized, tagged] = childrenOf(readDer(encoded));
    expect(oidText(oid!)).toBe('1.2.840.113549.1.1.11');
    expect(octets!.value.equals(big)).toBe(true);
    expect(timeValue(utc!).toISOString()).toBe('2049-12-31T23:59:59.000Z');
    expect(timeValue(generalized!).toISOString()).toBe('2050-01-01T00:00:00.000Z');
    expect(oidText(childrenOf(childrenOf(tagged!)[0]!)[0]!)).toBe('2.5.29.17');
  });

  it.each([
    ['truncated', Buffer.from([0x30, 0x05, 0x02, 0x01])],
    ['trailing bytes', Buffer.from([0x05, 0x00, 0x00])],
    ['length past the end', Buffer.from([0x30, 0x82, 0x10, 0x00])],
    ['empty', Buffer.alloc(0)],
  ])('rejects %s', (_, buf) => {
    expect(() => readDer(buf)).toThrowError(/malformed DER/);
  });
});

describe('ipText', () => {
  it.each([
    [[127, 0, 0, 1], '127.0.0.1'],
    [[...Array(15).fill(0), 1], '::1'],
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    [[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], 'fe80::1:0:0:1'],
    [[0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6], '2001:db8:1:2:3:4:5:6'],
  ])('%j → %s', (bytes, text) => {
    expect(ipText(Buffer.from(bytes))).toBe(text);
  });
});
