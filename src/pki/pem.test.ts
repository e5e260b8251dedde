import { describe, expect, it } from 'vitest';
import { certificateBlocks, pemBlocks, privateKeyBlock, toPem } from './pem.js';

const der = Buffer.from('3003020101', 'hex');

describe('pemBlocks', () => {
  it('reads blocks with their offsets, so what follows a block can be kept byte for byte', () => {
    const text = `junk\n${toPem('CERTIFICATE', der)}between\n${toPem('CERTIFICATE', Buffer.from('300100', 'hex'))}`;
    const blocks = certificateBlocks(text);
    expect(blocks).toHaveLength(2);
    expect(blocks[0]?.der).toEqual(der);
    expect(text.slice(blocks[0]?.start, blocks[0]?.end)).toBe(toPem('CERTIFICATE', der));
    expect(text.slice(blocks[0]?.end)).toMatch(/^between\n-----BEGIN CERTIFICATE-----/);
  });

  it('reads RFC 1421 headers apart from the body, and CRLF lines', () => {
    const text = '-----BEGIN RSA PRIVATE KEY-----\r\nProc-Type: 4,ENCRYPTED\r\nDEK-Info: AES-128-CBC,00\r\n\r\nMAMCAQE=\r\n-----END RSA PRIVATE KEY-----\r\n';
    const [block] = pemBlocks(text);
    expect(block?.headers).toEqual({ 'Proc-Type': '4,ENCRYPTED', 'DEK-Info': 'AES-128-CBC,00' });
    expect(block?.der).toEqual(der);
  });

  it('leaves out a block without its END line and a mismatched END', () => {
    expect(pemBlocks('-----BEGIN CERTIFICATE-----\nMAMCAQE=\n')).toEqual([]);
    expect(pemBlocks('-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END PRIVATE KEY-----\n')).toEqual([]);
  });

  it('is linear: a megabyte of BEGIN lines takes milliseconds', () => {
    const text = '-----BEGIN CERTIFICATE-----\n'.repeat(40_000);
    const t0 = Date.now();
    expect(pemBlocks(text)).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('privateKeyBlock', () => {
  it('names a legacy encrypted key (Proc-Type: 4,ENCRYPTED) as encrypted', () => {
    const text = '-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nMAMCAQE=\n-----END EC PRIVATE KEY-----\n';
    const found = privateKeyBlock(text);
    expect('reason' in found && found.reason).toMatch(/encrypted private key \(legacy PEM "Proc-Type: 4,ENCRYPTED"\).*openssl ec$/);
  });

  it('returns an unencrypted key with its encoding', () => {
    const found = privateKeyBlock(toPem('RSA PRIVATE KEY', der));
    expect('block' in found && found.encoding).toBe('pkcs1');
  });

  it('names PKCS#8 encryption too', () => {
    expect(privateKeyBlock(toPem('ENCRYPTED PRIVATE KEY', der))).toEqual({ reason: expect.stringMatching(/encrypted/) });
  });
});
