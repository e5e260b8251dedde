// A test-only stand-in for kube-apiserver's serving side: HTTPS on 127.0.0.1:<port> with pki/apiserver.{crt,key},
// answering /livez with "ok". Two behaviours of the real thing:
// - 'hot-reload': like kube-apiserver ≥ 1.28 it picks up a new serving certificate from disk by itself (here 1 s
//   after the files change) and is never restarted: its process keeps every other credential it loaded at start;
// - 'restart': it ignores the files until its static pod manifest changes, then goes away for a second and comes
//   back with whatever is on disk, as the kubelet recreating the pod would;
// - 'restart-stale': restarted like 'restart', but it comes back with the certificate it held before (it never
//   re-reads apiserver.crt), as a pod whose new certificate did not reach the container would.
import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:https';
import { join } from 'node:path';

export interface FakeApiserver {
  /** how many times it started listening (1 = never restarted) */
  readonly listens: number;
  /** certificate reloads without a restart */
  readonly reloads: number;
  stop(): Promise<void>;
}

export async function startFakeApiserver(root: string, port: number, mode: 'hot-reload' | 'restart' | 'restart-stale'): Promise<FakeApiserver> {
  const pki = join(root, 'etc/kubernetes/pki');
  const manifest = join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml');
  const read = (): { cert: string; key: string } => ({
    cert: readFileSync(join(pki, 'apiserver.crt'), 'utf8'),
    key: readFileSync(join(pki, 'apiserver.key'), 'utf8'),
  });
  let listens = 0;
  let reloads = 0;
  let stopped = false;
  let server: Server | undefined;

  const held = read();
  const listen = async (pair: { cert: string; key: string }): Promise<void> => {
    const s = createServer({ ...pair, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      res.writeHead(req.url === '/livez' ? 200 : 404, { 'content-type': 'text/plain' }).end(req.url === '/livez' ? 'ok' : 'not found');
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    server = s;
    listens++;
  };
  const close = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen(held);
  let files = JSON.stringify(read());
  let manifestText = readFileSync(manifest, 'utf8');
  let busy = false;
  const timer = setInterval(() => {
    if (busy || stopped) return;
    busy = true;
    void (async () => {
      try {
        if (mode === 'hot-reload') {
          if (JSON.stringify(read()) !== files) {
            await new Promise((r) => setTimeout(r, 1_000));
            const pair = read();
            server?.setSecureContext(pair); // throws on a cert/key pair caught mid-write: retried next tick
            files = JSON.stringify(pair);
            reloads++;
          }
        } else {
          const now = readFileSync(manifest, 'utf8');
          if (now !== manifestText) {
            manifestText = now;
            await close();
            await new Promise((r) => setTimeout(r, 1_000));
            if (!stopped) await listen(mode === 'restart-stale' ? held : read());
          }
        }
      } catch {
        // a file mid-replacement: next tick
      } finally {
        busy = false;
      }
    })();
  }, 100);

  return {
    get listens() {
      return listens;
    },
    get reloads() {
      return reloads;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (busy) await new Promise((r) => setTimeout(r, 20));
      await close();
    },
  };
}
