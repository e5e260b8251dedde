import { describe, expect, it } from 'vitest';
import { LEAVES, type Identity } from '../catalog.js';
import type { CertFacts } from '../pki/certificate.js';
import { identityDifferences } from './identity.js';

const identity = (name: string): Identity => {
  const leaf = LEAVES.find((e) => e.name === name);
  if (!leaf) throw new Error(name);
  return leaf.identity;
};

function cert(cn: string, o: string[], eku: string[], dns: string[] = [], ip: string[] = [], isCA = false): CertFacts {
  return {
    subject: [...o.map((value) => ({ type: 'O', value })), { type: 'CN', value: cn }],
    extKeyUsage: eku, dnsNames: dns, ipAddresses: ip, isCA,
  } as unknown as CertFacts;
}

const APISERVER_DNS = ['cp-1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];

describe('identityDifferences: kubeadm’s own forms pass', () => {
  it.each<[string, CertFacts]>([
    ['admin.conf', cert('kubernetes-admin', ['kubeadm:cluster-admins'], ['clientAuth'])],
    ['admin.conf', cert('kubernetes-admin', ['system:masters'], ['clientAuth'])],
    ['apiserver-kubelet-client', cert('kube-apiserver-kubelet-client', ['system:masters'], ['clientAuth'])],
    ['apiserver-etcd-client', cert('kube-apiserver-etcd-client', [], ['clientAuth'])],
    ['apiserver-etcd-client', cert('kube-apiserver-etcd-client', ['system:masters'], ['clientAuth'])],
    ['etcd-healthcheck-client', cert('kube-etcd-healthcheck-client', ['system:masters'], ['clientAuth'])],
    ['apiserver', cert('kube-apiserver', [], ['serverAuth'], [...APISERVER_DNS, 'lb.example.com'], ['10.96.0.1', '192.0.2.7'])],
    ['apiserver', cert('kube-apiserver', [], ['serverAuth'], ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.corp.internal'])],
    ['etcd-server', cert('cp-1', [], ['serverAuth', 'clientAuth'], ['cp-1', 'localhost'], ['192.0.2.7', '127.0.0.1', '::1'])],
    ['etcd-server', cert('kube-etcd', [], ['serverAuth', 'clientAuth'], ['localhost'], ['127.0.0.1'])],
    ['etcd-peer', cert('kube-etcd-peer', [], ['serverAuth', 'clientAuth'], ['cp-1'], ['192.0.2.7'])],
    ['kubelet.conf', cert('system:node:cp-1', ['system:nodes'], ['clientAuth'])],
    ['super-admin.conf', cert('kubernetes-super-admin', ['system:masters'], ['clientAuth'])],
  ])('%s %#', (name, c) => {
    expect(identityDifferences(identity(name), c)).toEqual([]);
  });
});

describe('identityDifferences: each rule catches its own difference', () => {
  it.each<[string, CertFacts, RegExp]>([
    ['apiserver', cert('kube-apiserver-x', [], ['serverAuth'], APISERVER_DNS), /^CN is "kube-apiserver-x", kubeadm's is "kube-apiserver"$/],
    ['kubelet.conf', cert('system:node:', ['system:nodes'], ['clientAuth']), /^CN is "system:node:"/],
    ['etcd-server', cert('', [], ['serverAuth', 'clientAuth'], ['localhost'], ['127.0.0.1']), /^CN is ""/],
    ['admin.conf', cert('kubernetes-admin', [], ['clientAuth']), /^organizations are none, kubeadm's are \["kubeadm:cluster-admins"\] or \["system:masters"\]$/],
    ['admin.conf', cert('kubernetes-admin', ['kubeadm:cluster-admins', 'system:masters'], ['clientAuth']), /^organizations are/],
    ['scheduler.conf', cert('system:kube-scheduler', ['system:masters'], ['clientAuth']), /^organizations are "system:masters"/],
    ['apiserver', cert('kube-apiserver', [], ['clientAuth'], APISERVER_DNS), /^extended key usage lacks serverAuth$/],
    ['etcd-peer', cert('cp-1', [], ['serverAuth']), /^extended key usage lacks clientAuth$/],
    ['apiserver', cert('kube-apiserver', [], ['serverAuth'], ['cp-1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc']), /^SANs lack DNS:kubernetes\.default\.svc\.<domain>$/],
    ['apiserver', cert('kube-apiserver', [], ['serverAuth'], ['kubernetes.default.svc.', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc']), /^SANs lack DNS:kubernetes\.default\.svc\.<domain>$/],
    ['etcd-server', cert('cp-1', [], ['serverAuth', 'clientAuth'], ['cp-1'], ['::1']), /^SANs lack DNS:localhost, IP:127\.0\.0\.1$/],
    ['front-proxy-client', cert('front-proxy-client', [], ['clientAuth'], [], [], true), /^it is a CA certificate$/],
  ])('%s %#', (name, c, message) => {
    const differences = identityDifferences(identity(name), c);
    expect(differences).toHaveLength(1);
    expect(differences[0]).toMatch(message);
  });
});
