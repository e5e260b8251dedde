/**
 * TLS probes of control-plane endpoints: which certificate a port serves, and whether a health path answers.
 * Certificates are compared byte for byte with the files on disk, which is stronger than any chain check.
 */
import type * as Https from 'node:https';
import type * as Tls from 'node:tls';

// Loaded on first probe: `status`, `plan` and the CLI's start never pay for node:https and node:tls.
const https = (): typeof Https => require('node:https') as typeof Https;
const tls = (): typeof Tls => require('node:tls') as typeof Tls;

export interface ClientCredential {
  cert: string;
  key: string;
  ca?: string;
}

export interface Endpoint {
  host: string;
  port: number;
}

export type ProbeResult = { ok: true; der: Buffer } | { ok: false; error: string; refused: boolean };

/** The DER of the certificate `endpoint` serves. */
export function servedCertificate(endpoint: Endpoint, client?: ClientCredential, timeoutMs = 3_000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = tls().connect({
      host: endpoint.host,
      port: endpoint.port,
      rejectUnauthorized: false,
      ...(client ? { cert: client.cert, key: client.key } : {}),
      timeout: timeoutMs,
    });
    let settled = false;
    const finish = (r: ProbeResult): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(r);
    };
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      if (peer?.raw) finish({ ok: true, der: Buffer.from(peer.raw) });
      else finish({ ok: false, error: 'no certificate presented', refused: false });
    });
    socket.once('timeout', () => finish({ ok: false, error: 'timed out', refused: false }));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      finish({ ok: false, error: err.code ?? err.message, refused: err.code === 'ECONNREFUSED' }),
    );
  });
}

/** GET https://endpoint/path; resolves with status and body, or an error text. */
export function httpsGet(
  endpoint: Endpoint,
  path: string,
  client?: ClientCredential,
  timeoutMs = 3_000,
): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = https().request(
      {
        host: endpoint.host,
        port: endpoint.port,
        path,
        method: 'GET',
        rejectUnauthorized: false,
        agent: false,
        timeout: timeoutMs,
        ...(client ? { cert: client.cert, key: client.key } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < 4096) body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      resolve({ error: 'timed out' });
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

/** An endpoint from a URL such as https://127.0.0.1:2379. */
export function endpointFromUrl(url: string): Endpoint | undefined {
  try {
    const u = new URL(url);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    return { host: host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host, port: Number(u.port || 443) };
  } catch {
    return undefined;
  }
}
