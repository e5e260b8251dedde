/**
 * `demo --keep`: the built-in host is built from the catalog, so every leaf carries kubeadm's identity as openssl
 * reads it, the run renews what is due, and status afterwards is clean.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { extractKubeconfigCredentials } from './helpers/kubeadm-fixture.js';
import { readCert, verifyChain } from './helpers/openssl.js';
import { runCli, statusJson } from './helpers/cli.js';

// What kubeadm writes on a node named demo-cp-1 (FACTS.md's table), independently of the catalog.
const KUBEADM: Record<string, { subject: string; eku: string[]; dns?: string[] }> = {
  'admin.conf': { subject: 'CN=kubernetes-admin,O=kubeadm:cluster-admins', eku: ['TLS Web Client Authentication'] },
  apiserver: {
    subject: 'CN=kube-apiserver', eku: ['TLS Web Server Authentication'],
    dns: ['demo-cp-1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
  },
  'apiserver-etcd-client': { subject: 'CN=kube-apiserver-etcd-client', eku: ['TLS Web Client Authentication'] },
  'apiserver-kubelet-client': { subject: 'CN=kube-apiserver-kubelet-client,O=kubeadm:cluster-admins', eku: ['TLS Web Client Authentication'] },
  'controller-manager.conf': { subject: 'CN=system:kube-controller-manager', eku: ['TLS Web Client Authentication'] },
  'etcd-healthcheck-client': { subject: 'CN=kube-etcd-healthcheck-client', eku: ['TLS Web Client Authentication'] },
  'etcd-peer': { subject: 'CN=demo-cp-1', eku: ['TLS Web Server Authentication', 'TLS Web Client Authentication'], dns: ['demo-cp-1', 'localhost'] },
  'etcd-server': { subject: 'CN=demo-cp-1', eku: ['TLS Web Server Authentication', 'TLS Web Client Authentication'], dns: ['demo-cp-1', 'localhost'] },
  'front-proxy-client': { subject: 'CN=front-proxy-client', eku: ['TLS Web Client Authentication'] },
  'kubelet.conf': { subject: 'CN=system:node:demo-cp-1,O=system:nodes', eku: ['TLS Web Client Authentication'] },
  'scheduler.conf': { subject: 'CN=system:kube-scheduler', eku: ['TLS Web Client Authentication'] },
  'super-admin.conf': { subject: 'CN=kubernetes-super-admin,O=system:masters', eku: ['TLS Web Client Authentication'] },
};

describe('demo', () => {
  let root = '';
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('builds kubeadm identities, renews what is due, and ends clean', () => {
    const r = runCli(['demo', '--keep']);
    root = /The demo tree stays in (\S+)\.$/m.exec(r.stdout)?.[1] ?? '';
    expect(root, r.stdout + r.stderr).not.toBe('');
    expect(r.code, r.stderr).toBe(0);
    const { code, report } = statusJson(root);
    expect(code).toBe(0);
    expect(report.problems).toEqual([]);
    const pki = join(root, 'etc/kubernetes/pki');
    for (const c of report.certificates) {
      const pem = c.path.endsWith('.conf') ? extractKubeconfigCredentials(join(root, c.path), root).certPem : join(root, c.path); // host paths
      const info = readCert(pem);
      const want = KUBEADM[c.name];
      expect(want, c.name).toBeDefined();
      expect(info.subject, c.name).toBe(want?.subject);
      expect(info.extKeyUsage, c.name).toEqual(want?.eku);
      if (want?.dns) expect(info.sanDNS, c.name).toEqual(want.dns);
      const ca = { ca: 'ca.crt', 'front-proxy-ca': 'front-proxy-ca.crt', 'etcd-ca': 'etcd/ca.crt' }[c.certificateAuthority] ?? '';
      expect(verifyChain(join(pki, ca), pem).ok, c.name).toBe(true);
    }
  });
});
