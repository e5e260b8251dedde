/**
 * The component catalog: for each control-plane component, how it is run (static pod manifest or systemd unit),
 * how its process is recognised in /proc, which endpoints it serves (flags and default ports) and with which
 * certificate, its health path, and which renewed entries it picks up by itself — and since which version — so a
 * renewal of those needs no restart. The restart targets, the reload-or-restart decision, `plan` and the README read
 * it; nothing else switches on component names. Sources: ../shared/FACTS.md ("What reloads by itself") and issue 9.
 */
import type { Component } from './catalog.js';

/** An endpoint given by a comma-separated URL list flag (etcd's --listen-client-urls / --listen-peer-urls). */
export interface UrlEndpoint {
  role: 'client' | 'peer';
  urlFlag: string;
  defaultPort: number;
  /** Flag naming the certificate file this endpoint serves. */
  certFlag: string;
  /** The endpoint demands a client certificate (etcd: client-cert-auth, peer-client-cert-auth). */
  clientCert: boolean;
}

/** An endpoint given by an address flag and a port flag (kube-apiserver, controller-manager, scheduler). */
export interface AddressEndpoint {
  role: 'secure';
  addressFlag: string;
  defaultAddress: string;
  portFlag: string;
  defaultPort: number;
  /** Flag naming the certificate file it serves; absent: a self-generated certificate. */
  certFlag?: string;
  clientCert: boolean;
}

export type EndpointSpec = UrlEndpoint | AddressEndpoint;

/** A renewed entry the component picks up without a restart. */
export interface SelfReload {
  entry: string;
  /** Lowest image tag of the component that does it (absent: every supported version). */
  since?: string;
  /** How, for the journal and `plan`. */
  how: string;
  /** The reload can be proved over fresh TLS handshakes (a served certificate); client certificates cannot. */
  provable: boolean;
}

/** Which client credential a probe presents: the catalog names the entries, targets read the files. */
export type ProbeCredential = 'etcd-client' | 'apiserver-kubelet-client' | 'none';

export interface StaticPodComponent {
  kind: 'static-pod';
  component: Exclude<Component, 'kubelet'>;
  manifest: string;
  /** argv[0] of its process, and the flag whose value tells this instance apart from others on the host. */
  process: { binary: string; identifyingFlag?: string };
  endpoints: readonly EndpointSpec[];
  health: { path: string; expect: 'etcd-health' | 'ok'; credential: ProbeCredential };
  credential: ProbeCredential;
  reloads: readonly SelfReload[];
  /** How long a self-reload may take to show on fresh handshakes before falling back to a restart (ms). */
  reloadBudgetMs: number;
}

export interface UnitComponent {
  kind: 'unit';
  component: 'kubelet';
  unit: string;
  reloads: readonly SelfReload[];
  reloadBudgetMs: number;
}

export type ComponentSpec = StaticPodComponent | UnitComponent;

const KUBE_CLIENT_RELOAD = 'kube-apiserver reloads its client certificates in code';

export const COMPONENT_CATALOG: Readonly<Record<Component, ComponentSpec>> = {
  etcd: {
    kind: 'static-pod', component: 'etcd', manifest: 'etcd.yaml',
    process: { binary: 'etcd', identifyingFlag: 'listen-client-urls' },
    endpoints: [
      { role: 'client', urlFlag: 'listen-client-urls', defaultPort: 2379, certFlag: 'cert-file', clientCert: true },
      { role: 'peer', urlFlag: 'listen-peer-urls', defaultPort: 2380, certFlag: 'peer-cert-file', clientCert: true },
    ],
    health: { path: '/health', expect: 'etcd-health', credential: 'etcd-client' },
    credential: 'etcd-client',
    reloads: [
      { entry: 'etcd-server', how: 'etcd reads its serving certificate on every new TLS handshake', provable: true },
      { entry: 'etcd-peer', how: 'etcd reads its peer certificate on every new TLS handshake', provable: true },
    ],
    reloadBudgetMs: 10_000,
  },
  'kube-apiserver': {
    kind: 'static-pod', component: 'kube-apiserver', manifest: 'kube-apiserver.yaml',
    process: { binary: 'kube-apiserver', identifyingFlag: 'secure-port' },
    endpoints: [{
      role: 'secure', addressFlag: 'advertise-address', defaultAddress: '127.0.0.1', portFlag: 'secure-port',
      defaultPort: 6443, certFlag: 'tls-cert-file', clientCert: false,
    }],
    health: { path: '/livez', expect: 'ok', credential: 'apiserver-kubelet-client' },
    credential: 'none',
    reloads: [
      { entry: 'apiserver', how: 'kube-apiserver watches its serving certificate file', provable: true },
      { entry: 'apiserver-kubelet-client', since: 'v1.27', how: KUBE_CLIENT_RELOAD, provable: false },
      { entry: 'front-proxy-client', since: 'v1.27', how: KUBE_CLIENT_RELOAD, provable: false },
      { entry: 'apiserver-etcd-client', since: 'v1.27', how: KUBE_CLIENT_RELOAD, provable: false },
    ],
    // its certificate watch can miss a change and retry a minute later
    reloadBudgetMs: 75_000,
  },
  'kube-controller-manager': {
    kind: 'static-pod', component: 'kube-controller-manager', manifest: 'kube-controller-manager.yaml',
    process: { binary: 'kube-controller-manager' },
    endpoints: [{ role: 'secure', addressFlag: 'bind-address', defaultAddress: '127.0.0.1', portFlag: 'secure-port', defaultPort: 10257, clientCert: false }],
    health: { path: '/healthz', expect: 'ok', credential: 'none' },
    credential: 'none',
    reloads: [],
    reloadBudgetMs: 0,
  },
  'kube-scheduler': {
    kind: 'static-pod', component: 'kube-scheduler', manifest: 'kube-scheduler.yaml',
    process: { binary: 'kube-scheduler' },
    endpoints: [{ role: 'secure', addressFlag: 'bind-address', defaultAddress: '127.0.0.1', portFlag: 'secure-port', defaultPort: 10259, clientCert: false }],
    health: { path: '/healthz', expect: 'ok', credential: 'none' },
    credential: 'none',
    reloads: [],
    reloadBudgetMs: 0,
  },
  kubelet: { kind: 'unit', component: 'kubelet', unit: 'kubelet.service', reloads: [], reloadBudgetMs: 0 },
};

/** Components that make the cluster unavailable while restarting: they take the cluster lock. */
export const CLUSTER_CRITICAL: ReadonlySet<Component> = new Set(['etcd', 'kube-apiserver']);

export interface ComponentAction {
  component: Component;
  action: 'reload' | 'restart';
  why: string;
  /** The renewed entries behind it. */
  entries: string[];
  /** Reload only: the entries whose reload is proved by a served certificate. */
  proved?: string[];
}

/** [major, minor] of an image tag like v1.31.4 or 3.5.15-0; undefined when it is no version. */
export function tagVersion(tag: string | undefined): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(tag ?? '');
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function atLeast(tag: string | undefined, since: string): boolean {
  const have = tagVersion(tag);
  const want = tagVersion(since) as [number, number];
  return !!have && (have[0] > want[0] || (have[0] === want[0] && have[1] >= want[1]));
}

/**
 * Pure: does renewing `entries` need `component` restarted, or does it pick them up by itself? `imageTag` is the
 * tag of the component's image in its manifest. An empty `entries` (restarts owed by an interrupted run) restarts.
 */
export function decideAction(
  component: Component, entries: string[], mode: 'auto' | 'always', imageTag?: string, budgetMs?: number,
): ComponentAction {
  const spec = COMPONENT_CATALOG[component];
  const base = { component, entries };
  if (mode === 'always') return { ...base, action: 'restart', why: 'restart.mode is always' };
  if (entries.length === 0) return { ...base, action: 'restart', why: 'restarts owed by an interrupted run' };
  const missing = entries.filter((e) => !spec.reloads.some((r) => r.entry === e));
  if (missing.length) {
    return { ...base, action: 'restart', why: `${component} does not reload ${missing.join(', ')} by itself` };
  }
  const used = spec.reloads.filter((r) => entries.includes(r.entry));
  const tooOld = used.filter((r) => r.since && !atLeast(imageTag, r.since));
  if (tooOld.length) {
    const have = imageTag ? `image tag ${imageTag}` : 'an image tag that is no version';
    return { ...base, action: 'restart', why: `${component} has ${have}; it reloads ${tooOld.map((r) => r.entry).join(', ')} only from ${tooOld[0]?.since}` };
  }
  const hows = [...new Set(used.map((r) => r.how))].join('; ');
  const proved = used.filter((r) => r.provable).map((r) => r.entry);
  const proof = proved.length ? `, proved over fresh TLS handshakes within ${(budgetMs ?? spec.reloadBudgetMs) / 1000}s` : '';
  return { ...base, action: 'reload', why: `${hows}${proof}`, proved };
}
