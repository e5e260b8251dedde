// What a live TLS endpoint serves, asked with independent clients (openssl s_client, etcdctl), never product code.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const OPENSSL = process.env['OPENSSL_BIN'] ?? '/usr/bin/openssl';
const ETCDCTL = process.env['ETCDCTL_BIN'] ?? '/usr/bin/etcdctl';
const ENV = { ...process.env, SSL_CERT_FILE: '/dev/null', SSL_CERT_DIR: '/nonexistent' };

/** DER of the first certificate in a PEM file or text. */
export function pemToDer(pathOrPem: string): Buffer {
  const pem = pathOrPem.includes('-----BEGIN ') ? pathOrPem : readFileSync(pathOrPem, 'utf8');
  const r = spawnSync(OPENSSL, ['x509', '-outform', 'DER'], { input: pem, env: ENV });
  if (r.status !== 0) throw new Error(`openssl x509 -outform DER: ${r.stderr.toString()}`);
  return r.stdout;
}

export interface ServedOptions {
  /** client certificate and key to present (etcd demands one) */
  cert?: string;
  key?: string;
  /** verify the chain against this CA and the IP 127.0.0.1 (fails the handshake otherwise) */
  caFile?: string;
}

/**
 * DER of the leaf certificate `127.0.0.1:port` serves, via `openssl s_client`. With caFile the chain and the
 * 127.0.0.1 SAN are verified too, and a failed verification throws. Asynchronous, so that servers living in the
 * test's own process (and the stand-in kubelet's timers) keep running while openssl talks to them.
 */
export async function servedCertDer(port: number, options: ServedOptions = {}): Promise<Buffer> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-showcerts'];
  if (options.cert) args.push('-cert', options.cert);
  if (options.key) args.push('-key', options.key);
  if (options.caFile) args.push('-CAfile', options.caFile, '-verify_return_error', '-verify_ip', '127.0.0.1');
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(OPENSSL, args, { env: ENV, encoding: 'utf8', timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/.exec(r.stdout)?.[0];
  if (!pem || (options.caFile && !/Verify return code: 0 \(ok\)/.test(r.stdout))) {
    throw new Error(`openssl s_client 127.0.0.1:${port} (exit ${r.code}): ${r.stderr}\n${r.stdout.slice(-1500)}`);
  }
  return pemToDer(pem);
}

/** `etcdctl endpoint health` with the given client credentials, verifying the server against caFile. */
export async function etcdctlHealth(port: number, cert: string, key: string, caFile: string): Promise<{ ok: boolean; output: string }> {
  const args = ['--endpoints', `https://127.0.0.1:${port}`, '--cacert', caFile, '--cert', cert, '--key', key, '--dial-timeout', '5s', '--command-timeout', '5s', 'endpoint', 'health'];
  return new Promise((resolve) => {
    execFile(ETCDCTL, args, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ETCDCTL_API: '3' }, encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      resolve({ ok: !err && /is healthy/.test(output), output });
    });
  });
}
