/**
 * `renew NAME...` renews exactly the named entries, even when others are due (kubeadm's `certs renew NAME`), and
 * restarts only what those entries need; an unrelated broken entry does not fail the request. `renew --all` stays.
 */
import { copyFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { useFixtureCopies } from './helpers/host-trees.js';
import { type Fixture } from './helpers/kubeadm-fixture.js';
import { expectKeyMatches, expectSignedBy, readCert } from './helpers/openssl.js';
import { credentialOf } from './helpers/renewal-checks.js';

const trees = useFixtureCopies({ issuedDaysAgo: 40 });
const NAMES = ['admin.conf', 'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'controller-manager.conf', 'etcd-healthcheck-client', 'etcd-peer', 'etcd-server', 'front-proxy-client', 'scheduler.conf', 'super-admin.conf'];

/** The fixture's entries, pointed at a copy of its tree. */
function at(root: string): Fixture {
  const base = trees.base;
  const moved = (p: string | undefined): string | undefined => (p ? join(root, p.slice(base.root.length)) : p);
  return {
    ...base, root,
    entry: (name: string) => {
      const e = base.entry(name);
      return { ...e, certPath: moved(e.certPath) as string, keyPath: moved(e.keyPath), kubeconfigPath: moved(e.kubeconfigPath) };
    },
  };
}

const serials = (fx: Fixture): Record<string, string> => Object.fromEntries(NAMES.map((n) => [n, readCert(credentialOf(fx, n).certPem).serial]));
const manifests = (root: string): Record<string, string> => Object.fromEntries(
  readdirSync(join(root, 'etc/kubernetes/manifests')).map((f) => [f, readFileSync(join(root, 'etc/kubernetes/manifests', f), 'utf8')]),
);

describe('renew NAME...', () => {
  it('renews only the named entries while all are due, and restarts only what they need', () => {
    const root = trees.copy('renewInterval: 30d\nrestart:\n  verify: false\n');
    const fx = at(root);
    const before = serials(fx);
    const manifestsBefore = manifests(root);
    expect(JSON.parse(runCli(['--root', root, 'plan', '-o', 'json']).stdout).renew).toHaveLength(NAMES.length); // all due
    const r = runCli(['--root', root, 'renew', 'apiserver', 'scheduler.conf']);
    expect(r.code, r.stderr).toBe(0);
    const after = serials(fx);
    const changed = NAMES.filter((n) => after[n] !== before[n]);
    expect(changed).toEqual(['apiserver', 'scheduler.conf']);
    for (const n of changed) {
      const c = credentialOf(fx, n);
      expectSignedBy(fx.entry('ca').certPath, c.certPem);
      expectKeyMatches(c.certPem, c.keyPem);
    }
    const manifestsAfter = manifests(root);
    const annotated = Object.keys(manifestsAfter).filter((f) => manifestsAfter[f] !== manifestsBefore[f]).sort();
    expect(annotated).toEqual(['kube-apiserver.yaml', 'kube-scheduler.yaml']);
  });

  it('does not fail because an entry it was not asked about is broken; `run` still does', () => {
    const root = trees.copy('renewInterval: 30d\nrestart:\n  enabled: false\n');
    // front-proxy-client's key no longer matches its certificate
    copyFileSync(join(root, 'etc/kubernetes/pki/apiserver-kubelet-client.key'), join(root, 'etc/kubernetes/pki/front-proxy-client.key'));
    const fx = at(root);
    const before = serials(fx);
    const named = runCli(['--root', root, 'renew', 'etcd-server']);
    expect(named.code, named.stderr).toBe(0);
    expect(named.stderr).not.toMatch(/front-proxy-client/);
    expect(NAMES.filter((n) => serials(fx)[n] !== before[n])).toEqual(['etcd-server']);
    const all = runCli(['--root', root, 'run']);
    expect(all.code).toBe(1);
    expect(all.stderr).toMatch(/front-proxy-client/);
  });

  it('renew --all still renews every entry this node can renew, whatever the policy', () => {
    const root = trees.copy('restart:\n  enabled: false\n');
    const fx = at(root);
    const before = serials(fx);
    expect(JSON.parse(runCli(['--root', root, 'plan', '-o', 'json']).stdout).renew).toHaveLength(0); // nothing due
    const r = runCli(['--root', root, 'renew', '--all']);
    expect(r.code, r.stderr).toBe(0);
    const after = serials(fx);
    expect(NAMES.filter((n) => after[n] === before[n])).toEqual([]);
  });
});
