/**
 * What "restarted and serving" means for each component, read from its own static pod manifest: the endpoint(s)
 * it serves, which file's certificate each must serve afterwards, and its health path.
 */
import { readFileSync } from 'node:fs';
import { readBoundedText } from '../host/read.js';
import { join } from 'node:path';
import type { Component } from '../catalog.js';
import { COMPONENT_CATALOG, type EndpointSpec, type ProbeCredential } from '../components.js';
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
  /** The tag of the component's image in its manifest (decides which credentials it reloads by itself). */
  imageTag?: string | undefined;
}

export interface UnitTarget {
  kind: 'unit';
  component: Component;
  unit: string;
}

export type RestartTarget = StaticPodTarget | UnitTarget;

/** Manifest file names, from the component catalog. */
export const MANIFEST_FILES = Object.fromEntries(
  Object.values(COMPONENT_CATALOG).flatMap((c) => (c.kind === 'static-pod' ? [[c.component, c.manifest]] : [])),
) as Record<Exclude<Component, 'kubelet'>, string>;

function credential(paths: HostPaths, certRel: string, keyRel: string): ClientCredential | undefined {
  try {
    return { cert: readFileSync(join(paths.pki, certRel), 'utf8'), key: readFileSync(join(paths.pki, keyRel), 'utf8') };
  } catch {
    return undefined;
  }
}

const CREDENTIAL_FILES: Record<Exclude<ProbeCredential, 'none'>, Array<[string, string]>> = {
  'etcd-client': [['apiserver-etcd-client.crt', 'apiserver-etcd-client.key'], ['etcd/healthcheck-client.crt', 'etcd/healthcheck-client.key']],
  'apiserver-kubelet-client': [['apiserver-kubelet-client.crt', 'apiserver-kubelet-client.key']],
};

function probeCredential(paths: HostPaths, which: ProbeCredential): ClientCredential | undefined {
  if (which === 'none') return undefined;
  for (const [cert, key] of CREDENTIAL_FILES[which]) {
    const c = credential(paths, cert, key);
    if (c) return c;
  }
  return undefined;
}

function pickLocalUrl(list: string | undefined): Endpoint | undefined {
  const urls = (list ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const local = urls.find((u) => /\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(u)) ?? urls[0];
  return local ? endpointFromUrl(local) : undefined;
}

function endpointOf(spec: EndpointSpec, argv: string[]): Endpoint | undefined {
  if (spec.role === 'secure') {
    const address = flagValue(argv, spec.addressFlag) ?? spec.defaultAddress;
    return { host: address === '0.0.0.0' ? '127.0.0.1' : address, port: Number(flagValue(argv, spec.portFlag) ?? spec.defaultPort) };
  }
  const found = pickLocalUrl(flagValue(argv, spec.urlFlag));
  // without its client URL flag etcd listens on its default; without a peer flag there is no peer port to check
  return found ?? (spec.role === 'client' ? { host: '127.0.0.1', port: spec.defaultPort } : undefined);
}

const EXPECT = {
  'etcd-health': (status: number, body: string): boolean => status === 200 && /"health"\s*:\s*"true"/.test(body),
  ok: (status: number, body: string): boolean => status === 200 && body.trim() === 'ok',
};

/** The tag of the image of the manifest's first container (after the last ':', digest ignored). */
export function manifestImageTag(pod: Record<string, unknown>): string | undefined {
  const spec = pod.spec as { containers?: Array<{ image?: unknown }> } | undefined;
  const image = String(spec?.containers?.[0]?.image ?? '').split('@')[0] as string;
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(colon + 1) : undefined;
}

/** The restart target of a component; throws a HostFileError when its manifest is missing or unreadable. */
export function restartTarget(component: Component, paths: HostPaths): RestartTarget {
  const spec = COMPONENT_CATALOG[component];
  if (spec.kind === 'unit') return { kind: 'unit', component, unit: spec.unit };
  const manifest = join(paths.manifests, spec.manifest);
  const pod = parseManifest(readBoundedText(manifest, 'manifest'), manifest);
  const argv = manifestArgv(pod);
  const file = (flag: string): string | undefined => {
    const v = flagValue(argv, flag);
    return v ? resolveUnderRoot(paths.root, underRoot(paths.root, v)) : undefined;
  };
  const client = probeCredential(paths, spec.credential);
  const serving: ServingCheck[] = [];
  for (const e of spec.endpoints) {
    const endpoint = endpointOf(e, argv);
    if (!endpoint) continue;
    const expectedCertFile = e.certFlag ? file(e.certFlag) : undefined;
    serving.push({
      endpoint, ...(expectedCertFile ? { expectedCertFile } : {}), ...(e.clientCert && client ? { client } : {}),
    });
  }
  const first = serving[0]?.endpoint ?? { host: '127.0.0.1', port: 0 };
  const healthClient = probeCredential(paths, spec.health.credential);
  const id = spec.process.identifyingFlag;
  const idValue = id ? (id === 'secure-port' ? String(first.port) : flagValue(argv, id) ?? '') : undefined;
  return {
    kind: 'static-pod', component, manifest, serving,
    health: { endpoint: first, path: spec.health.path, ...(healthClient ? { client: healthClient } : {}), expect: EXPECT[spec.health.expect] },
    process: { binary: spec.process.binary, ...(id ? { arg: `--${id}=${idValue}` } : {}) },
    imageTag: manifestImageTag(pod),
  };
}
