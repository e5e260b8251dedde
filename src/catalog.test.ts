import { describe, expect, it } from 'vitest';
import { CERTIFICATE_AUTHORITIES, COMPONENTS, LEAVES, findCa } from './catalog.js';

describe('catalog', () => {
  it('lists kubeadm’s twelve leaves and three CAs once each', () => {
    expect(LEAVES.map((e) => e.name)).toEqual([
      'admin.conf', 'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'controller-manager.conf',
      'etcd-healthcheck-client', 'etcd-peer', 'etcd-server', 'front-proxy-client', 'kubelet.conf', 'scheduler.conf',
      'super-admin.conf',
    ]);
    expect(CERTIFICATE_AUTHORITIES.map((e) => e.name)).toEqual(['ca', 'front-proxy-ca', 'etcd-ca']);
  });

  it('maps each leaf to the components FACTS.md says must restart', () => {
    const restarts = Object.fromEntries(LEAVES.map((e) => [e.name, [...e.restarts]]));
    expect(restarts).toEqual({
      'admin.conf': [],
      apiserver: ['kube-apiserver'],
      'apiserver-etcd-client': ['kube-apiserver'],
      'apiserver-kubelet-client': ['kube-apiserver'],
      'controller-manager.conf': ['kube-controller-manager'],
      'etcd-healthcheck-client': [],
      'etcd-peer': ['etcd'],
      'etcd-server': ['etcd'],
      'front-proxy-client': ['kube-apiserver'],
      'kubelet.conf': ['kubelet'],
      'scheduler.conf': ['kube-scheduler'],
      'super-admin.conf': [],
    });
    for (const leaf of LEAVES) for (const c of leaf.restarts) expect(COMPONENTS).toContain(c);
  });

  it('signs etcd entries with etcd-ca and marks them local-etcd only', () => {
    for (const leaf of LEAVES.filter((e) => e.name.startsWith('etcd-') || e.name === 'apiserver-etcd-client')) {
      expect(leaf.ca).toBe('etcd-ca');
      expect(leaf.topology).toBe('local-etcd');
    }
    expect(findCa('etcd-ca').topology).toBe('local-etcd');
    expect(LEAVES.filter((e) => e.optional).map((e) => e.name)).toEqual(['super-admin.conf']);
  });
});
