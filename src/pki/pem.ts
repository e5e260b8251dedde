/** PEM blocks and private-key encodings as kubeadm and hand-edited clusters write them. */

export interface PemBlock {
  label: string;
  der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const body = (m[2] ?? '').replace(/\s+/g, '');
    out.push({ label: m[1] ?? '', der: Buffer.from(body, 'base64') });
  }
  return out;
}

export function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** PKCS#1 ("RSA PRIVATE KEY"), SEC1 ("EC PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"). */
export type KeyEncoding = 'pkcs1' | 'sec1' | 'pkcs8';

export const KEY_LABELS: Record<string, KeyEncoding> = {
  'RSA PRIVATE KEY': 'pkcs1',
  'EC PRIVATE KEY': 'sec1',
  'PRIVATE KEY': 'pkcs8',
};

export function certificateBlocks(text: string): PemBlock[] {
  return pemBlocks(text).filter((b) => b.label === 'CERTIFICATE');
}

/** The private-key block of a PEM text and its encoding; `reason` when there is none usable. */
export function privateKeyBlock(text: string): { block: PemBlock; encoding: KeyEncoding } | { reason: string } {
  const blocks = pemBlocks(text);
  for (const block of blocks) {
    const encoding = KEY_LABELS[block.label];
    if (encoding) return { block, encoding };
  }
  if (blocks.some((b) => b.label === 'ENCRYPTED PRIVATE KEY' || b.label.includes('ENCRYPTED'))) {
    return { reason: 'the private key is encrypted; kubeadm keys are not, decrypt it with openssl pkey' };
  }
  if (text.includes('-----BEGIN') && blocks.length === 0) return { reason: 'the PEM data is truncated or damaged' };
  return { reason: 'holds no PEM private key' };
}
