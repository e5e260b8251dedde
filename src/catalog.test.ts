import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CERTIFICATE_AUTHORITIES, COMPONENTS, LEAVES, findCa } from './catalog.js';
import { main } from './main.js';

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

describe('the catalog is what the README and `renew --help` show', () => {
  it('README’s entry table lists exactly the catalog’s leaves, files, CAs and restarts', () => {
    const readme = readFileSync(join(__dirname, '../README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('Entries, with kubeadm\'s names:')).split('\n\n')[1] ?? '';
    const rows = table.split('\n').slice(2).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
    expect(rows.map((r) => r[0])).toEqual(LEAVES.map((e) => e.name));
    for (const [entry, files, ca, restarts] of rows) {
      const leaf = LEAVES.find((e) => e.name === entry);
      if (!leaf) throw new Error(`README lists ${entry}, the catalog does not`);
      const path = leaf.kind === 'pki' ? `pki/${leaf.cert.replace(/\.crt$/, '.{crt,key}')}` : leaf.file;
      expect(files?.split(' ')[0], entry).toBe(path);
      expect(files?.includes('optional'), entry).toBe(leaf.optional);
      expect(ca, entry).toBe(leaf.ca);
      expect(restarts?.replace(' (systemd unit)', ''), entry).toBe(leaf.restarts.length ? leaf.restarts.join(', ') : 'nothing');
    }
  });

  it('`renew --help` shows each entry with its description', async () => {
    let out = '';
    const code = await main(['renew', '--help'], (s) => {
      out += s;
      return true;
    }, () => true);
    expect(code).toBe(0);
    const listed = (out.split('Entries:\n')[1] ?? '').split('\n\n')[0]?.split('\n') ?? [];
    expect(listed.map((l) => l.trim().split(/\s{2,}/))).toEqual(LEAVES.map((e) => [e.name, e.description]));
  });
});
