// Static pod manifests as kubeadm v1.31 writes them to /etc/kubernetes/manifests.
//
// Layout follows sigs.k8s.io/yaml output (keys sorted, list items at the parent's indentation, 2 spaces),
// flags sorted by name as kubeadm sorts its argument map. Host paths in flags and volumes are the real absolute
// host paths (/etc/kubernetes/...), never prefixed with the fixture root. Independent of the product's code.
import { isIPv6 } from 'node:net';

export interface ManifestPorts {
  apiserver: number;
  etcdClient: number;
  etcdPeer: number;
  etcdMetrics: number;
  controllerManager: number;
  scheduler: number;
}

export const DEFAULT_PORTS: Readonly<ManifestPorts> = Object.freeze({
  apiserver: 6443,
  etcdClient: 2379,
  etcdPeer: 2380,
  etcdMetrics: 2381,
  controllerManager: 10257,
  scheduler: 10259,
});

export interface ExternalEtcd {
  endpoint: string; // e.g. https://etcd-1.example.invalid:2379
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface ManifestParams {
  hostname: string;
  advertiseAddress: string;
  ports: ManifestPorts;
  serviceSubnet: string;
  podSubnet: string;
  /** external CA mode: kubeadm passes empty --cluster-signing-* flags to the controller-manager */
  externalCA: boolean;
  /** set: no etcd.yaml, the apiserver talks to this etcd */
  externalEtcd?: ExternalEtcd;
  kubernetesVersion: string;
  etcdImageTag: string;
}

export const KUBERNETES_VERSION = 'v1.31.4';
export const ETCD_IMAGE_TAG = '3.5.15-0';

/** host:port, bracketing IPv6 literals */
export function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** a YAML string as go-yaml writes it: plain when that reads back as the same string, double-quoted otherwise */
export function yamlScalar(value: string): string {
  const plain =
    value !== '' &&
    !/^[?:,[\]{}#&*!|>'"%@`\s]/.test(value) && // indicator or space first
    !/^-(\s|$)/.test(value) && // "- " starts a sequence entry; "--flag" is fine
    !/(: |\s#|:$|\s$)/.test(value) &&
    !/^(true|false|yes|no|on|off|y|n|null|~|[-+]?(\.?\d[\d_]*(\.\d*)?([eE][-+]?\d+)?|0x[\da-fA-F]+|\.inf|\.nan))$/i.test(value);
  return plain ? value : JSON.stringify(value);
}
const scalar = yamlScalar;

function commandLines(binary: string, flags: Record<string, string>): string {
  const keys = Object.keys(flags).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [`    - ${binary}`, ...keys.map((k) => `    - ${scalar(`--${k}=${flags[k] ?? ''}`)}`)].join('\n');
}

function probe(kind: string, p: { host: string; path: string; port: number; scheme: 'HTTP' | 'HTTPS'; failureThreshold: number; initialDelay?: boolean; periodSeconds: number }): string {
  return [
    `    ${kind}:`,
    `      failureThreshold: ${p.failureThreshold}`,
    '      httpGet:',
    `        host: ${scalar(p.host)}`,
    `        path: ${scalar(p.path)}`,
    `        port: ${p.port}`,
    `        scheme: ${p.scheme}`,
    ...(p.initialDelay === false ? [] : ['      initialDelaySeconds: 10']),
    `      periodSeconds: ${p.periodSeconds}`,
    '      timeoutSeconds: 15',
  ].join('\n');
}

interface Volume {
  name: string;
  path: string;
  type: 'DirectoryOrCreate' | 'FileOrCreate';
  readOnly: boolean;
}

// kubeadm's VolumeMapToSlice / VolumeMountMapToSlice sort by volume name
function byName(volumes: Volume[]): Volume[] {
  return [...volumes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function volumeMounts(volumes: Volume[]): string {
  const sorted = byName(volumes);
  return [
    '    volumeMounts:',
    ...sorted.flatMap((v) => [`    - mountPath: ${v.path}`, `      name: ${v.name}`, ...(v.readOnly ? ['      readOnly: true'] : [])]),
  ].join('\n');
}

function volumeList(volumes: Volume[]): string {
  const sorted = byName(volumes);
  return [
    '  volumes:',
    ...sorted.flatMap((v) => ['  - hostPath:', `      path: ${v.path}`, `      type: ${v.type}`, `    name: ${v.name}`]),
  ].join('\n');
}

const podTail = [
  '  hostNetwork: true',
  '  priority: 2000001000',
  '  priorityClassName: system-node-critical',
  '  securityContext:',
  '    seccompProfile:',
  '      type: RuntimeDefault',
].join('\n');

const caCertVolumes: Volume[] = [
  { name: 'ca-certs', path: '/etc/ssl/certs', type: 'DirectoryOrCreate', readOnly: true },
  { name: 'etc-ca-certificates', path: '/etc/ca-certificates', type: 'DirectoryOrCreate', readOnly: true },
  { name: 'usr-local-share-ca-certificates', path: '/usr/local/share/ca-certificates', type: 'DirectoryOrCreate', readOnly: true },
  { name: 'usr-share-ca-certificates', path: '/usr/share/ca-certificates', type: 'DirectoryOrCreate', readOnly: true },
];
const k8sCerts: Volume = { name: 'k8s-certs', path: '/etc/kubernetes/pki', type: 'DirectoryOrCreate', readOnly: true };

export function etcdManifest(p: ManifestParams): string {
  const adv = p.advertiseAddress;
  const clientUrl = `https://${hostPort(adv, p.ports.etcdClient)}`;
  const loopbackClientUrl = `https://${hostPort('127.0.0.1', p.ports.etcdClient)}`;
  const peerUrl = `https://${hostPort(adv, p.ports.etcdPeer)}`;
  const listenClient = [...new Set([loopbackClientUrl, clientUrl])].join(',');
  const flags: Record<string, string> = {
    'advertise-client-urls': clientUrl,
    'cert-file': '/etc/kubernetes/pki/etcd/server.crt',
    'client-cert-auth': 'true',
    'data-dir': '/var/lib/etcd',
    'experimental-initial-corrupt-check': 'true',
    'experimental-watch-progress-notify-interval': '5s',
    'initial-advertise-peer-urls': peerUrl,
    'initial-cluster': `${p.hostname}=${peerUrl}`,
    'key-file': '/etc/kubernetes/pki/etcd/server.key',
    'listen-client-urls': listenClient,
    'listen-metrics-urls': `http://${hostPort('127.0.0.1', p.ports.etcdMetrics)}`,
    'listen-peer-urls': peerUrl,
    name: p.hostname,
    'peer-cert-file': '/etc/kubernetes/pki/etcd/peer.crt',
    'peer-client-cert-auth': 'true',
    'peer-key-file': '/etc/kubernetes/pki/etcd/peer.key',
    'peer-trusted-ca-file': '/etc/kubernetes/pki/etcd/ca.crt',
    'snapshot-count': '10000',
    'trusted-ca-file': '/etc/kubernetes/pki/etcd/ca.crt',
  };
  const metrics = { host: '127.0.0.1', port: p.ports.etcdMetrics, scheme: 'HTTP' as const };
  return `apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/etcd.advertise-client-urls: ${scalar(clientUrl)}
  creationTimestamp: null
  labels:
    component: etcd
    tier: control-plane
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
${commandLines('etcd', flags)}
    image: registry.k8s.io/etcd:${p.etcdImageTag}
    imagePullPolicy: IfNotPresent
${probe('livenessProbe', { ...metrics, path: '/health?exclude=NOSPACE&serializable=true', failureThreshold: 8, periodSeconds: 10 })}
    name: etcd
    resources:
      requests:
        cpu: 100m
        memory: 100Mi
${probe('startupProbe', { ...metrics, path: '/health?serializable=false', failureThreshold: 24, periodSeconds: 10 })}
    volumeMounts:
    - mountPath: /var/lib/etcd
      name: etcd-data
    - mountPath: /etc/kubernetes/pki/etcd
      name: etcd-certs
${podTail}
  volumes:
  - hostPath:
      path: /etc/kubernetes/pki/etcd
      type: DirectoryOrCreate
    name: etcd-certs
  - hostPath:
      path: /var/lib/etcd
      type: DirectoryOrCreate
    name: etcd-data
status: {}
`;
}

export function apiserverManifest(p: ManifestParams): string {
  const adv = p.advertiseAddress;
  const etcd = p.externalEtcd ?? {
    endpoint: `https://${hostPort('127.0.0.1', p.ports.etcdClient)}`,
    caFile: '/etc/kubernetes/pki/etcd/ca.crt',
    certFile: '/etc/kubernetes/pki/apiserver-etcd-client.crt',
    keyFile: '/etc/kubernetes/pki/apiserver-etcd-client.key',
  };
  const flags: Record<string, string> = {
    'advertise-address': adv,
    'allow-privileged': 'true',
    'authorization-mode': 'Node,RBAC',
    'client-ca-file': '/etc/kubernetes/pki/ca.crt',
    'enable-admission-plugins': 'NodeRestriction',
    'enable-bootstrap-token-auth': 'true',
    'etcd-cafile': etcd.caFile,
    'etcd-certfile': etcd.certFile,
    'etcd-keyfile': etcd.keyFile,
    'etcd-servers': etcd.endpoint,
    'kubelet-client-certificate': '/etc/kubernetes/pki/apiserver-kubelet-client.crt',
    'kubelet-client-key': '/etc/kubernetes/pki/apiserver-kubelet-client.key',
    'kubelet-preferred-address-types': 'InternalIP,ExternalIP,Hostname',
    'proxy-client-cert-file': '/etc/kubernetes/pki/front-proxy-client.crt',
    'proxy-client-key-file': '/etc/kubernetes/pki/front-proxy-client.key',
    'requestheader-allowed-names': 'front-proxy-client',
    'requestheader-client-ca-file': '/etc/kubernetes/pki/front-proxy-ca.crt',
    'requestheader-extra-headers-prefix': 'X-Remote-Extra-',
    'requestheader-group-headers': 'X-Remote-Group',
    'requestheader-username-headers': 'X-Remote-User',
    'secure-port': String(p.ports.apiserver),
    'service-account-issuer': 'https://kubernetes.default.svc.cluster.local',
    'service-account-key-file': '/etc/kubernetes/pki/sa.pub',
    'service-account-signing-key-file': '/etc/kubernetes/pki/sa.key',
    'service-cluster-ip-range': p.serviceSubnet,
    'tls-cert-file': '/etc/kubernetes/pki/apiserver.crt',
    'tls-private-key-file': '/etc/kubernetes/pki/apiserver.key',
  };
  const https = { host: adv, port: p.ports.apiserver, scheme: 'HTTPS' as const };
  const volumes = [...caCertVolumes, k8sCerts];
  return `apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint: ${scalar(hostPort(adv, p.ports.apiserver))}
  creationTimestamp: null
  labels:
    component: kube-apiserver
    tier: control-plane
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - command:
${commandLines('kube-apiserver', flags)}
    image: registry.k8s.io/kube-apiserver:${p.kubernetesVersion}
    imagePullPolicy: IfNotPresent
${probe('livenessProbe', { ...https, path: '/livez', failureThreshold: 8, periodSeconds: 10 })}
    name: kube-apiserver
${probe('readinessProbe', { ...https, path: '/readyz', failureThreshold: 3, initialDelay: false, periodSeconds: 1 })}
    resources:
      requests:
        cpu: 250m
${probe('startupProbe', { ...https, path: '/livez', failureThreshold: 24, periodSeconds: 10 })}
${volumeMounts(volumes)}
${podTail}
${volumeList(volumes)}
status: {}
`;
}

export function controllerManagerManifest(p: ManifestParams): string {
  const conf = '/etc/kubernetes/controller-manager.conf';
  const flags: Record<string, string> = {
    'allocate-node-cidrs': 'true',
    'authentication-kubeconfig': conf,
    'authorization-kubeconfig': conf,
    'bind-address': '127.0.0.1',
    'client-ca-file': '/etc/kubernetes/pki/ca.crt',
    'cluster-cidr': p.podSubnet,
    'cluster-name': 'kubernetes',
    // kubeadm blanks these in external CA mode so that the csrsigning controller does not start
    'cluster-signing-cert-file': p.externalCA ? '' : '/etc/kubernetes/pki/ca.crt',
    'cluster-signing-key-file': p.externalCA ? '' : '/etc/kubernetes/pki/ca.key',
    controllers: '*,bootstrapsigner,tokencleaner',
    kubeconfig: conf,
    'leader-elect': 'true',
    'requestheader-client-ca-file': '/etc/kubernetes/pki/front-proxy-ca.crt',
    'root-ca-file': '/etc/kubernetes/pki/ca.crt',
    'service-account-private-key-file': '/etc/kubernetes/pki/sa.key',
    'service-cluster-ip-range': p.serviceSubnet,
    'use-service-account-credentials': 'true',
  };
  if (p.ports.controllerManager !== DEFAULT_PORTS.controllerManager) flags['secure-port'] = String(p.ports.controllerManager);
  const https = { host: '127.0.0.1', port: p.ports.controllerManager, scheme: 'HTTPS' as const };
  const volumes: Volume[] = [
    ...caCertVolumes,
    k8sCerts,
    { name: 'flexvolume-dir', path: '/usr/libexec/kubernetes/kubelet-plugins/volume/exec', type: 'DirectoryOrCreate', readOnly: false },
    { name: 'kubeconfig', path: conf, type: 'FileOrCreate', readOnly: true },
  ];
  return `apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: null
  labels:
    component: kube-controller-manager
    tier: control-plane
  name: kube-controller-manager
  namespace: kube-system
spec:
  containers:
  - command:
${commandLines('kube-controller-manager', flags)}
    image: registry.k8s.io/kube-controller-manager:${p.kubernetesVersion}
    imagePullPolicy: IfNotPresent
${probe('livenessProbe', { ...https, path: '/healthz', failureThreshold: 8, periodSeconds: 10 })}
    name: kube-controller-manager
    resources:
      requests:
        cpu: 200m
${probe('startupProbe', { ...https, path: '/healthz', failureThreshold: 24, periodSeconds: 10 })}
${volumeMounts(volumes)}
${podTail}
${volumeList(volumes)}
status: {}
`;
}

export function schedulerManifest(p: ManifestParams): string {
  const conf = '/etc/kubernetes/scheduler.conf';
  const flags: Record<string, string> = {
    'authentication-kubeconfig': conf,
    'authorization-kubeconfig': conf,
    'bind-address': '127.0.0.1',
    kubeconfig: conf,
    'leader-elect': 'true',
  };
  if (p.ports.scheduler !== DEFAULT_PORTS.scheduler) flags['secure-port'] = String(p.ports.scheduler);
  const https = { host: '127.0.0.1', port: p.ports.scheduler, scheme: 'HTTPS' as const };
  const volumes: Volume[] = [{ name: 'kubeconfig', path: conf, type: 'FileOrCreate', readOnly: true }];
  return `apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: null
  labels:
    component: kube-scheduler
    tier: control-plane
  name: kube-scheduler
  namespace: kube-system
spec:
  containers:
  - command:
${commandLines('kube-scheduler', flags)}
    image: registry.k8s.io/kube-scheduler:${p.kubernetesVersion}
    imagePullPolicy: IfNotPresent
${probe('livenessProbe', { ...https, path: '/healthz', failureThreshold: 8, periodSeconds: 10 })}
    name: kube-scheduler
    resources:
      requests:
        cpu: 100m
${probe('startupProbe', { ...https, path: '/healthz', failureThreshold: 24, periodSeconds: 10 })}
${volumeMounts(volumes)}
${podTail}
${volumeList(volumes)}
status: {}
`;
}

/** file name (in /etc/kubernetes/manifests) → content; etcd.yaml only with stacked etcd */
export function renderManifests(p: ManifestParams): Record<string, string> {
  return {
    ...(p.externalEtcd ? {} : { 'etcd.yaml': etcdManifest(p) }),
    'kube-apiserver.yaml': apiserverManifest(p),
    'kube-controller-manager.yaml': controllerManagerManifest(p),
    'kube-scheduler.yaml': schedulerManifest(p),
  };
}
