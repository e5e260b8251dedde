/**
 * What "restarted and serving" means for each component, read from its own static pod manifest: the endpoint(s)
 * it serves, which file's certificate each must serve afterwards, and its health path.
 */
import { readFileSync } from 'node:fs';
import { readBoundedText } from '../host/read.js';
import { join } from 'node:path';
import type { Component } from '../catalog.js';
import { type HostPaths, resolveUnderRoot, underRoot } from '../host/paths.js';
import { flagValue, manifestArgv, parseManifest } from './manifest.js';
import { type ClientCredential, type Endpoint, endpointFromUrl } from './probe.js';

export interface ServingCheck {
  endpoint: Endpoint;
  /** The certificate file the endpoint must serve; without one, it must serve a different one than before. */
  expectedCertFile?: string;
  client?: ClientCredential;
}

export interface StaticPodTarget {
  kind: 'static-pod';
  component: Component;
  manifest: string;
  serving: ServingCheck[];
  health: { endpoint: Endpoint; path: string; client?: ClientCredential; expect: (status: number, body: string) => boolean };
  /** Identifies the component's process in /proc: binary name and an argument unique to this instance. */
  process: { binary: string; arg?: string };
}

export interface UnitTarget {
  kind: 'unit';
  component: Component;
  unit: string;
}

export type RestartTarget = StaticPodTarget | UnitTarget;

export const MANIFEST_FILES: Record<Exclude<Component, 'kubelet'>, string> = {
  etcd: 'etcd.yaml',
  'kube-apiserver': 'kube-apiserver.yaml',
  'kube-controller-manager': 'kube-controller-manager.yaml',
  'kube-scheduler': 'kube-scheduler.yaml',
};

function credential(paths: HostPaths, certRel: string, keyRel: string): ClientCredential | undefined {
  try {
    return { cert: readFileSync(join(paths.pki, certRel), 'utf8'), key: readFileSync(join(paths.pki, keyRel), 'utf8') };
  } catch {
    return undefined;
  }
}

function pickLocalUrl(list: string | undefined): Endpoint | undefined {
  const urls = (list ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const local = urls.find((u) => /\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(u)) ?? urls[0];
  return local ? endpointFromUrl(local) : undefined;
}

const ok200 = (status: number, body: string): boolean => status === 200 && body.trim() === 'ok';

/** The restart target of a component; throws a HostFileError when its manifest is missing or unreadable. */
export function restartTarget(component: Component, paths: HostPaths): RestartTarget {
  if (component === 'kubelet') return { kind: 'unit', component, unit: 'kubelet.service' };
  const manifest = join(paths.manifests, MANIFEST_FILES[component]);
  const argv = manifestArgv(parseManifest(readBoundedText(manifest, 'manifest'), manifest));
  const file = (flag: string): string | undefined => {
    const v = flagValue(argv, flag);
    return v ? resolveUnderRoot(paths.root, underRoot(paths.root, v)) : undefined;
  };
  const withFile = (check: ServingCheck, f: string | undefined): ServingCheck => (f ? { ...check, expectedCertFile: f } : check);
  switch (component) {
    case 'etcd': {
      const client = credential(paths, 'apiserver-etcd-client.crt', 'apiserver-etcd-client.key')
        ?? credential(paths, 'etcd/healthcheck-client.crt', 'etcd/healthcheck-client.key');
      const clientEp = pickLocalUrl(flagValue(argv, 'listen-client-urls')) ?? { host: '127.0.0.1', port: 2379 };
      const serving: ServingCheck[] = [withFile({ endpoint: clientEp, ...(client ? { client } : {}) }, file('cert-file'))];
      const peerEp = pickLocalUrl(flagValue(argv, 'listen-peer-urls'));
      if (peerEp) serving.push(withFile({ endpoint: peerEp, ...(client ? { client } : {}) }, file('peer-cert-file')));
      return {
        kind: 'static-pod', component, manifest, serving,
        health: {
          endpoint: clientEp, path: '/health', ...(client ? { client } : {}),
          expect: (status, body) => status === 200 && /"health"\s*:\s*"true"/.test(body),
        },
        process: { binary: 'etcd', arg: `--listen-client-urls=${flagValue(argv, 'listen-client-urls') ?? ''}` },
      };
    }
    case 'kube-apiserver': {
      const address = flagValue(argv, 'advertise-address') ?? '127.0.0.1';
      const endpoint = { host: address === '0.0.0.0' ? '127.0.0.1' : address, port: Number(flagValue(argv, 'secure-port') ?? 6443) };
      const client = credential(paths, 'apiserver-kubelet-client.crt', 'apiserver-kubelet-client.key');
      return {
        kind: 'static-pod', component, manifest,
        serving: [withFile({ endpoint }, file('tls-cert-file'))],
        health: { endpoint, path: '/livez', ...(client ? { client } : {}), expect: ok200 },
        process: { binary: 'kube-apiserver', arg: `--secure-port=${endpoint.port}` },
      };
    }
    case 'kube-controller-manager':
    case 'kube-scheduler': {
      const address = flagValue(argv, 'bind-address') ?? '127.0.0.1';
      const endpoint = {
        host: address === '0.0.0.0' ? '127.0.0.1' : address,
        port: Number(flagValue(argv, 'secure-port') ?? (component === 'kube-scheduler' ? 10259 : 10257)),
      };
      return {
        kind: 'static-pod', component, manifest,
        serving: [withFile({ endpoint }, file('tls-cert-file'))],
        health: { endpoint, path: '/healthz', expect: ok200 },
        process: { binary: component },
      };
    }
  }
}
