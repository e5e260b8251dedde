/** PEM blocks and private-key encodings as kubeadm and hand-edited clusters write them. */

export interface PemBlock {
  label: string;
  der: Buffer;
  /** RFC 1421 headers before the base64 body (the legacy encrypted-key form writes Proc-Type and DEK-Info). */
  headers: Record<string, string>;
  /** Offsets of the block in the text: from its BEGIN line to just after its END line's newline. */
  start: number;
  end: number;
}

const BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----\r?$/;
const HEADER = /^([A-Za-z0-9-]+):\s*(.*?)\r?$/;

/**
 * Every complete PEM block of a text, in order, in one pass over its lines (linear however large or hostile the
 * text: no regular expression spans more than one line). A block without its END line is left out.
 */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  let open: { label: string; start: number; headers: Record<string, string>; body: string[]; inHeaders: boolean } | undefined;
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const next = nl < 0 ? text.length : nl + 1;
    const line = text.slice(pos, nl < 0 ? text.length : nl);
    const begin = BEGIN.exec(line);
    if (begin) {
      open = { label: begin[1] ?? '', start: pos, headers: {}, body: [], inHeaders: true };
    } else if (open && line.replace(/\r$/, '') === `-----END ${open.label}-----`) {
      const body = open.body.join('').replace(/\s+/g, '');
      out.push({ label: open.label, der: Buffer.from(body, 'base64'), headers: open.headers, start: open.start, end: next });
      open = undefined;
    } else if (open) {
      const header = open.inHeaders ? HEADER.exec(line) : null;
      if (header) open.headers[header[1] ?? ''] = header[2] ?? '';
      else {
        if (line.trim() !== '') open.inHeaders = false;
        open.body.push(line);
      }
    }
    pos = next;
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
    if (encoding && /ENCRYPTED/i.test(block.headers['Proc-Type'] ?? '')) {
      return {
        reason: `holds an encrypted private key (legacy PEM "Proc-Type: ${block.headers['Proc-Type']}"); kubeadm keys are not, decrypt it with openssl ${encoding === 'sec1' ? 'ec' : encoding === 'pkcs1' ? 'rsa' : 'pkey'}`,
      };
    }
    if (encoding) return { block, encoding };
  }
  if (blocks.some((b) => b.label === 'ENCRYPTED PRIVATE KEY' || b.label.includes('ENCRYPTED'))) {
    return { reason: 'the private key is encrypted; kubeadm keys are not, decrypt it with openssl pkey' };
  }
  if (text.includes('-----BEGIN') && blocks.length === 0) return { reason: 'the PEM data is truncated or damaged' };
  return { reason: 'holds no PEM private key' };
}
