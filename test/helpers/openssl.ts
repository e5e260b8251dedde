// Inspection and assertion helpers backed by the openssl CLI only (never the product's code).
// Every `pathOrPem` argument takes a file path or PEM text (text is piped to openssl on stdin).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

const OPENSSL = process.env['OPENSSL_BIN'] ?? '/usr/bin/openssl';
// Keep the system trust store out: it must never make a chain verify, and loading it costs `openssl x509` ~50 ms a call.
const ENV = { ...process.env, SSL_CERT_FILE: '/dev/null', SSL_CERT_DIR: '/nonexistent' };

function isPem(pathOrPem: string): boolean {
  return pathOrPem.includes('-----BEGIN ');
}

interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], input?: string): RunResult {
  const r = spawnSync(OPENSSL, args, { encoding: 'utf8', input, env: ENV, maxBuffer: 16 << 20 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** runs openssl with the input as `-in path` or on stdin; throws on a non-zero exit */
function inspect(args: string[], pathOrPem: string): string {
  const r = isPem(pathOrPem) ? run(args, pathOrPem) : run([...args, '-in', pathOrPem]);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} ${isPem(pathOrPem) ? '<pem>' : pathOrPem} failed: ${r.stderr}`);
  return r.stdout;
}

/** openssl prints IPv6 SANs fully expanded (0:0:0:0:0:0:0:1); return the canonical compressed form (::1) */
function canonicalIP(ip: string): string {
  if (!ip.includes(':')) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

/** splits an RFC 2253 name into attributes, in DER order (RFC 2253 prints the last RDN first) */
export function parseRfc2253(name: string): Record<string, string[]> {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i] ?? '';
    if (c === '\\' && i + 1 < name.length) {
      current += c + (name[i + 1] ?? '');
      i++;
    } else if (c === ',' || c === '+') {
      parts.push(current);
      current = '';
    } else current += c;
  }
  if (current) parts.push(current);
  const attrs: Record<string, string[]> = {};
  for (const part of parts.reverse()) {
    const eq = part.indexOf('=');
    const type = part.slice(0, eq);
    const value = part
      .slice(eq + 1)
      .replace(/\\([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
      .replace(/\\(.)/g, '$1');
    (attrs[type] ??= []).push(value);
  }
  return attrs;
}

export interface CertInfo {
  /** RFC 2253 (`-nameopt RFC2253`), e.g. "CN=kubernetes-admin,O=kubeadm:cluster-admins" */
  subject: string;
  /** attribute → values, e.g. { CN: ['kubernetes-admin'], O: ['kubeadm:cluster-admins'] } */
  subjectAttrs: Record<string, string[]>;
  issuer: string;
  issuerAttrs: Record<string, string[]>;
  /** uppercase hex, no colons, as `openssl x509 -serial` prints it */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  sanDNS: string[];
  /** IPv6 in canonical compressed form ("::1") */
  sanIP: string[];
  /** openssl names: 'TLS Web Server Authentication', 'TLS Web Client Authentication' */
  extKeyUsage: string[];
  /** openssl names: 'Digital Signature', 'Key Encipherment', 'Certificate Sign' */
  keyUsage: string[];
  isCA: boolean;
  /** openssl's extension titles, e.g. 'X509v3 Key Usage', in certificate order */
  extensions: string[];
  criticalExtensions: string[];
  /** colon-separated uppercase hex, as openssl prints it */
  subjectKeyId?: string;
  authorityKeyId?: string;
  /** 'rsaEncryption' | 'id-ecPublicKey' */
  publicKeyAlgorithm: string;
  keyBits: number;
  /** EC only: 'prime256v1' */
  curve?: string;
  /** e.g. 'sha256WithRSAEncryption', 'ecdsa-with-SHA256' */
  signatureAlgorithm: string;
}

interface ParsedExtension {
  title: string;
  critical: boolean;
  value: string;
}

function parseExtensions(text: string): ParsedExtension[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === 'X509v3 extensions:');
  if (start < 0) return [];
  const out: ParsedExtension[] = [];
  const indent = (l: string): number => l.length - l.trimStart().length;
  const headerIndent = indent(lines[start + 1] ?? '');
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '' || indent(line) < headerIndent) break;
    if (indent(line) === headerIndent) {
      const m = /^\s*(.+?):\s*(critical)?\s*$/.exec(line);
      out.push({ title: m?.[1] ?? line.trim(), critical: m?.[2] === 'critical', value: '' });
    } else {
      const last = out[out.length - 1];
      if (last) last.value = last.value ? `${last.value}\n${line.trim()}` : line.trim();
    }
  }
  return out;
}

const commaList = (v: string | undefined): string[] => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []);

export function readCert(pathOrPem: string): CertInfo {
  const out = inspect(
    ['x509', '-noout', '-nameopt', 'RFC2253', '-dateopt', 'iso_8601', '-subject', '-issuer', '-serial', '-startdate', '-enddate', '-text'],
    pathOrPem,
  );
  const field = (name: string): string => {
    const m = new RegExp(`^${name}=(.*)$`, 'm').exec(out);
    if (!m) throw new Error(`openssl x509 printed no ${name}`);
    return (m[1] ?? '').trim();
  };
  const date = (s: string): Date => new Date(s.replace(' ', 'T'));
  const exts = parseExtensions(out);
  const ext = (title: string): ParsedExtension | undefined => exts.find((e) => e.title === title);
  const san = commaList(ext('X509v3 Subject Alternative Name')?.value);
  const keyId = (v: string | undefined): string | undefined => v?.split('\n')[0]?.replace(/^keyid:/, '').trim() || undefined;
  const subject = field('subject');
  const issuer = field('issuer');
  const bits = /Public-Key: \((\d+) bit/.exec(out)?.[1];
  const curve = /ASN1 OID: (\S+)/.exec(out)?.[1];
  const skid = keyId(ext('X509v3 Subject Key Identifier')?.value);
  const akid = keyId(ext('X509v3 Authority Key Identifier')?.value);
  return {
    subject,
    subjectAttrs: parseRfc2253(subject),
    issuer,
    issuerAttrs: parseRfc2253(issuer),
    serial: field('serial').toUpperCase(),
    notBefore: date(field('notBefore')),
    notAfter: date(field('notAfter')),
    sanDNS: san.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
    sanIP: san.filter((s) => s.startsWith('IP Address:')).map((s) => canonicalIP(s.slice(11))),
    extKeyUsage: commaList(ext('X509v3 Extended Key Usage')?.value),
    keyUsage: commaList(ext('X509v3 Key Usage')?.value),
    isCA: /CA:TRUE/.test(ext('X509v3 Basic Constraints')?.value ?? ''),
    extensions: exts.map((e) => e.title),
    criticalExtensions: exts.filter((e) => e.critical).map((e) => e.title),
    ...(skid ? { subjectKeyId: skid } : {}),
    ...(akid ? { authorityKeyId: akid } : {}),
    publicKeyAlgorithm: /Public Key Algorithm: (\S+)/.exec(out)?.[1] ?? 'unknown',
    keyBits: bits ? Number(bits) : 0,
    ...(curve ? { curve } : {}),
    signatureAlgorithm: /Signature Algorithm: (\S+)/.exec(out)?.[1] ?? 'unknown',
  };
}

export interface VerifyOptions {
  /** verify as of this time (epoch seconds or Date) instead of now */
  attime?: number | Date;
  /** skip validity-period checks (signature and chain only) */
  ignoreTime?: boolean;
  /** add -x509_strict (RFC 5280 checks: AKI on leaves, SKI on CAs, ...) */
  strict?: boolean;
  /** check the EKU for this purpose */
  purpose?: 'sslserver' | 'sslclient';
}

/** `openssl verify -CAfile ca cert`; the third argument may be an attime (epoch seconds or Date) or options */
export function verifyChain(caCertPathOrPem: string, certPathOrPem: string, at?: number | Date | VerifyOptions): { ok: boolean; output: string } {
  const opts: VerifyOptions = typeof at === 'number' || at instanceof Date ? { attime: at } : (at ?? {});
  if (!isPem(caCertPathOrPem)) return verifyWithCAfile(caCertPathOrPem, certPathOrPem, opts);
  const dir = mkdtempSync(join(tmpdir(), 'kcr-verify-'));
  try {
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, caCertPathOrPem);
    return verifyWithCAfile(caFile, certPathOrPem, opts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function verifyWithCAfile(caFile: string, certPathOrPem: string, opts: VerifyOptions): { ok: boolean; output: string } {
  const args = ['verify', '-CAfile', caFile];
  if (opts.attime !== undefined) {
    const secs = opts.attime instanceof Date ? Math.floor(opts.attime.getTime() / 1000) : opts.attime;
    args.push('-attime', String(secs));
  }
  if (opts.ignoreTime) args.push('-no_check_time');
  if (opts.strict) args.push('-x509_strict');
  if (opts.purpose) args.push('-purpose', opts.purpose);
  // a cert file may also hold a key (kubelet-client-current.pem): verify reads the first certificate
  const r = isPem(certPathOrPem) ? run(args, certPathOrPem) : run([...args, certPathOrPem]);
  const output = `${r.stdout}${r.stderr}`.trim();
  return { ok: r.status === 0 && /: OK$/m.test(r.stdout), output };
}

/** the certificate's SubjectPublicKeyInfo as PEM ("PUBLIC KEY") */
export function publicKeyOfCert(pathOrPem: string): string {
  return inspect(['x509', '-noout', '-pubkey'], pathOrPem);
}

/** the private key's public half as PEM ("PUBLIC KEY"); the input may also hold certificates */
export function publicKeyOfKey(pathOrPem: string): string {
  return inspect(['pkey', '-pubout'], pathOrPem);
}

export function keyMatchesCert(certPathOrPem: string, keyPathOrPem: string): boolean {
  return publicKeyOfCert(certPathOrPem) === publicKeyOfKey(keyPathOrPem);
}

export interface KeyInfo {
  /** from the PEM header: RSA PRIVATE KEY = pkcs1, EC PRIVATE KEY = sec1, PRIVATE KEY = pkcs8 */
  encoding: 'pkcs1' | 'sec1' | 'pkcs8';
  algorithm: 'RSA' | 'EC';
  bits: number;
  /** EC only: openssl's name, 'prime256v1' */
  curve?: string;
}

export function keyInfo(pathOrPem: string): KeyInfo {
  const text = isPem(pathOrPem) ? pathOrPem : readFileSync(pathOrPem, 'utf8');
  const header = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----/.exec(text)?.[1];
  const encoding = header === 'RSA PRIVATE KEY' ? 'pkcs1' : header === 'EC PRIVATE KEY' ? 'sec1' : header === 'PRIVATE KEY' ? 'pkcs8' : undefined;
  if (!encoding) throw new Error(`no unencrypted private key PEM block in ${isPem(pathOrPem) ? '<pem>' : pathOrPem}`);
  const out = inspect(['pkey', '-noout', '-text'], pathOrPem);
  const bits = Number(/Private-Key: \((\d+) bit/.exec(out)?.[1] ?? 0);
  const curve = /ASN1 OID: (\S+)/.exec(out)?.[1];
  if (/^modulus:/m.test(out)) return { encoding, algorithm: 'RSA', bits };
  if (curve) return { encoding, algorithm: 'EC', bits, curve };
  throw new Error(`unsupported key type: ${out.split('\n')[0] ?? ''}`);
}

// ---------- vitest assertions ----------

function label(pathOrPem: string): string {
  if (!isPem(pathOrPem)) return pathOrPem;
  try {
    return `<${readCert(pathOrPem).subject}>`;
  } catch {
    return '<pem>';
  }
}

/** the certificate chains to the CA (signature and chain only; validity period not checked unless options say so) */
export function expectSignedBy(caPathOrPem: string, certPathOrPem: string, options: VerifyOptions = { ignoreTime: true }): void {
  const r = verifyChain(caPathOrPem, certPathOrPem, options);
  if (!r.ok) expect.fail(`${label(certPathOrPem)} is not signed by ${label(caPathOrPem)}:\n${r.output}`);
}

/** subject, SAN DNS and IP, and extended key usages are the same (SAN and EKU order-insensitive) */
export function expectSameIdentity(oldPathOrPem: string, newPathOrPem: string): void {
  const identity = (c: CertInfo) => ({
    subject: c.subject,
    sanDNS: [...c.sanDNS].sort(),
    sanIP: [...c.sanIP].sort(),
    extKeyUsage: [...c.extKeyUsage].sort(),
  });
  const before = identity(readCert(oldPathOrPem));
  const after = identity(readCert(newPathOrPem));
  expect(after, `identity of ${before.subject} changed`).toEqual(before);
}

export function expectKeyMatches(certPathOrPem: string, keyPathOrPem: string): void {
  const fromKey = publicKeyOfKey(keyPathOrPem);
  const fromCert = publicKeyOfCert(certPathOrPem);
  if (fromKey !== fromCert) expect.fail(`key ${label(keyPathOrPem)} does not belong to ${label(certPathOrPem)}`);
}
