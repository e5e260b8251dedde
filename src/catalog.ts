/**
 * The one catalog of a kubeadm control-plane node's certificates (kubeadm's own names, see
 * cmd/kubeadm/app/phases/certs/certlist.go and .../renewal). Status, plan, renewal, the restart mapping, CLI help and
 * the README table all read it; nothing else lists entries.
 *
 * File paths are relative: `pki` entries to the PKI directory (paths.pki), kubeconfigs to the Kubernetes directory
 * (paths.kubernetes).
 */

export type CaName = 'ca' | 'front-proxy-ca' | 'etcd-ca';

/** What must be restarted for a renewed file to take effect, in the order restarts happen. */
export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet'] as const;
export type Component = (typeof COMPONENTS)[number];

/**
 * When an entry exists at all:
 * - `always`: every kubeadm control-plane node.
 * - `local-etcd`: only when etcd is stacked on this node (kubeadm's default); absent with external etcd.
 */
export type Topology = 'always' | 'local-etcd';

export interface CaEntry {
  readonly kind: 'ca';
  readonly name: CaName;
  readonly cert: string;
  readonly key: string;
  readonly topology: Topology;
}

/**
 * The identity kubeadm gives a leaf (its `KubeadmCert.config`: CN, organizations, extended key usages, SANs). A
 * renewal copies the identity the certificate has; one that differs from kubeadm's is reported, never "fixed".
 * `<node>` stands for the node name kubeadm was given and `<domain>` for the cluster's DNS domain (`cluster.local`
 * by default): any non-empty text.
 */
export interface Identity {
  readonly commonName: string;
  /** Each alternative is one exact set kubeadm has written (releases differ: see FACTS.md). */
  readonly organizations: readonly (readonly string[])[];
  readonly extKeyUsage: readonly ('serverAuth' | 'clientAuth')[];
  /** SANs kubeadm always writes: a minimum, since operators add their own (certSANs). */
  readonly sans?: { readonly dns: readonly string[]; readonly ip: readonly string[] };
}

const NO_ORG = [[]] as const;
/** kubeadm ≥ 1.29 puts the cluster's admins in kubeadm:cluster-admins; older releases in system:masters. */
const CLUSTER_ADMINS = [['kubeadm:cluster-admins'], ['system:masters']] as const;
/** kubeadm ≥ 1.23 (roughly) stopped putting etcd's clients in system:masters. */
const ETCD_CLIENT_ORG = [[], ['system:masters']] as const;
const client = (commonName: string, organizations: Identity['organizations'] = NO_ORG): Identity => ({
  commonName, organizations, extKeyUsage: ['clientAuth'],
});
/**
 * etcd's serving and peer certificates, named after the node. The SANs every release wrote are few: the node name
 * and the advertise address came and went (kubeadm 1.10 named them kube-etcd and kube-etcd-peer), so only the
 * server's localhost and 127.0.0.1 are a minimum.
 */
const etcdServing = (sans: Identity['sans']): Identity => ({
  commonName: '<node>', organizations: NO_ORG, extKeyUsage: ['serverAuth', 'clientAuth'], ...(sans ? { sans } : {}),
});

export interface PkiEntry {
  readonly kind: 'pki';
  readonly name: string;
  readonly cert: string;
  readonly key: string;
  readonly ca: CaName;
  readonly restarts: readonly Component[];
  /** A missing optional entry is a normal topology, never due and never an error. */
  readonly optional: boolean;
  readonly topology: Topology;
  readonly description: string;
  readonly identity: Identity;
}

export interface KubeconfigEntry {
  readonly kind: 'kubeconfig';
  readonly name: string;
  readonly file: string;
  readonly ca: CaName;
  readonly restarts: readonly Component[];
  readonly optional: boolean;
  readonly topology: Topology;
  readonly description: string;
  readonly identity: Identity;
}

export type LeafEntry = PkiEntry | KubeconfigEntry;
export type CatalogEntry = CaEntry | LeafEntry;

export const CERTIFICATE_AUTHORITIES: readonly CaEntry[] = [
  { kind: 'ca', name: 'ca', cert: 'ca.crt', key: 'ca.key', topology: 'always' },
  { kind: 'ca', name: 'front-proxy-ca', cert: 'front-proxy-ca.crt', key: 'front-proxy-ca.key', topology: 'always' },
  { kind: 'ca', name: 'etcd-ca', cert: 'etcd/ca.crt', key: 'etcd/ca.key', topology: 'local-etcd' },
];

/** Leaves in kubeadm's `certs check-expiration` order (alphabetical). */
export const LEAVES: readonly LeafEntry[] = [
  {
    kind: 'kubeconfig', name: 'admin.conf', file: 'admin.conf', ca: 'ca', restarts: [], optional: false,
    topology: 'always',
    description: 'kubeconfig for the cluster administrator (kubectl)',
    identity: client('kubernetes-admin', CLUSTER_ADMINS),
  },
  {
    kind: 'pki', name: 'apiserver', cert: 'apiserver.crt', key: 'apiserver.key', ca: 'ca',
    restarts: ['kube-apiserver'], optional: false, topology: 'always',
    description: 'serving certificate of the API server',
    identity: {
      commonName: 'kube-apiserver', organizations: NO_ORG, extKeyUsage: ['serverAuth'],
      sans: { dns: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.<domain>'], ip: [] },
    },
  },
  {
    kind: 'pki', name: 'apiserver-etcd-client', cert: 'apiserver-etcd-client.crt', key: 'apiserver-etcd-client.key',
    ca: 'etcd-ca', restarts: ['kube-apiserver'], optional: false, topology: 'local-etcd',
    description: 'client certificate the API server uses to reach etcd',
    identity: client('kube-apiserver-etcd-client', ETCD_CLIENT_ORG),
  },
  {
    kind: 'pki', name: 'apiserver-kubelet-client', cert: 'apiserver-kubelet-client.crt',
    key: 'apiserver-kubelet-client.key', ca: 'ca', restarts: ['kube-apiserver'], optional: false, topology: 'always',
    description: 'client certificate the API server uses to reach kubelets',
    identity: client('kube-apiserver-kubelet-client', CLUSTER_ADMINS),
  },
  {
    kind: 'kubeconfig', name: 'controller-manager.conf', file: 'controller-manager.conf', ca: 'ca',
    restarts: ['kube-controller-manager'], optional: false, topology: 'always',
    description: 'kubeconfig of the controller manager',
    identity: client('system:kube-controller-manager'),
  },
  {
    kind: 'pki', name: 'etcd-healthcheck-client', cert: 'etcd/healthcheck-client.crt',
    key: 'etcd/healthcheck-client.key', ca: 'etcd-ca', restarts: [], optional: false, topology: 'local-etcd',
    description: 'client certificate for etcd health checks by people and scripts',
    identity: client('kube-etcd-healthcheck-client', ETCD_CLIENT_ORG),
  },
  {
    kind: 'pki', name: 'etcd-peer', cert: 'etcd/peer.crt', key: 'etcd/peer.key', ca: 'etcd-ca', restarts: ['etcd'],
    optional: false, topology: 'local-etcd',
    description: 'etcd peer-to-peer certificate',
    identity: etcdServing(undefined),
  },
  {
    kind: 'pki', name: 'etcd-server', cert: 'etcd/server.crt', key: 'etcd/server.key', ca: 'etcd-ca',
    restarts: ['etcd'], optional: false, topology: 'local-etcd',
    description: 'serving certificate of etcd',
    identity: etcdServing({ dns: ['localhost'], ip: ['127.0.0.1'] }),
  },
  {
    kind: 'pki', name: 'front-proxy-client', cert: 'front-proxy-client.crt', key: 'front-proxy-client.key',
    ca: 'front-proxy-ca', restarts: ['kube-apiserver'], optional: false, topology: 'always',
    description: 'client certificate the API server uses towards aggregated APIs',
    identity: client('front-proxy-client'),
  },
  {
    kind: 'kubeconfig', name: 'kubelet.conf', file: 'kubelet.conf', ca: 'ca', restarts: ['kubelet'], optional: false,
    topology: 'always',
    description: 'kubeconfig of the kubelet (renewed here only when the certificate is embedded)',
    identity: client('system:node:<node>', [['system:nodes']]),
  },
  {
    kind: 'kubeconfig', name: 'scheduler.conf', file: 'scheduler.conf', ca: 'ca', restarts: ['kube-scheduler'],
    optional: false, topology: 'always',
    description: 'kubeconfig of the scheduler',
    identity: client('system:kube-scheduler'),
  },
  {
    kind: 'kubeconfig', name: 'super-admin.conf', file: 'super-admin.conf', ca: 'ca', restarts: [], optional: true,
    topology: 'always',
    description: 'break-glass kubeconfig (system:masters); only on the node that ran kubeadm init',
    identity: client('kubernetes-super-admin', [['system:masters']]),
  },
];

export const LEAF_NAMES: readonly string[] = LEAVES.map((e) => e.name);

export function findCa(name: CaName): CaEntry {
  const ca = CERTIFICATE_AUTHORITIES.find((e) => e.name === name);
  if (!ca) throw new Error(`catalog has no CA ${name}`);
  return ca;
}
