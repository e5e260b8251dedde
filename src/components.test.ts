import { describe, expect, it } from 'vitest';
import { LEAVES } from './catalog.js';
import { COMPONENT_CATALOG, decideAction, tagVersion } from './components.js';

describe('the component catalog', () => {
  it('names only catalog entries that restart the component as reloaded by it', () => {
    for (const spec of Object.values(COMPONENT_CATALOG)) {
      for (const r of spec.reloads) {
        const leaf = LEAVES.find((l) => l.name === r.entry);
        expect(leaf?.restarts, `${spec.component} reloads ${r.entry}`).toContain(spec.component);
      }
    }
  });
});

describe('decideAction', () => {
  it.each([
    { c: 'etcd', e: ['etcd-server', 'etcd-peer'], tag: '3.5.15-0', mode: 'auto', action: 'reload', why: /every new TLS handshake, proved over fresh TLS handshakes within 10s/ },
    { c: 'etcd', e: ['etcd-server'], tag: undefined, mode: 'auto', action: 'reload', why: /serving certificate on every new TLS handshake/ },
    { c: 'etcd', e: ['etcd-server', 'etcd-peer'], tag: '3.5.15-0', mode: 'always', action: 'restart', why: /restart.mode is always/ },
    { c: 'etcd', e: [], tag: '3.5.15-0', mode: 'auto', action: 'restart', why: /owed by an interrupted run/ },
    { c: 'kube-apiserver', e: ['apiserver'], tag: 'v1.20.0', mode: 'auto', action: 'reload', why: /watches its serving certificate file, proved/ },
    { c: 'kube-apiserver', e: ['apiserver', 'apiserver-etcd-client', 'front-proxy-client', 'apiserver-kubelet-client'], tag: 'v1.27.0', mode: 'auto', action: 'reload', why: /client certificates in code/ },
    { c: 'kube-apiserver', e: ['apiserver-kubelet-client'], tag: 'v1.31.4', mode: 'auto', action: 'reload', why: /^kube-apiserver reloads its client certificates in code$/ },
    { c: 'kube-apiserver', e: ['apiserver', 'front-proxy-client'], tag: 'v1.26.15', mode: 'auto', action: 'restart', why: /image tag v1.26.15; it reloads front-proxy-client only from v1.27/ },
    { c: 'kube-apiserver', e: ['apiserver-etcd-client'], tag: 'latest', mode: 'auto', action: 'restart', why: /image tag latest; it reloads apiserver-etcd-client only from v1.27/ },
    { c: 'kube-apiserver', e: ['apiserver-etcd-client'], tag: undefined, mode: 'auto', action: 'restart', why: /an image tag that is no version/ },
    { c: 'kube-apiserver', e: ['apiserver'], tag: 'v2.0.0', mode: 'auto', action: 'reload', why: /watches/ },
    { c: 'kube-controller-manager', e: ['controller-manager.conf'], tag: 'v1.31.4', mode: 'auto', action: 'restart', why: /does not reload controller-manager.conf by itself/ },
    { c: 'kube-scheduler', e: ['scheduler.conf'], tag: 'v1.31.4', mode: 'auto', action: 'restart', why: /does not reload scheduler.conf/ },
    { c: 'kubelet', e: ['kubelet.conf'], tag: undefined, mode: 'auto', action: 'restart', why: /kubelet does not reload kubelet.conf/ },
  ] as const)('$c $e $tag $mode → $action', ({ c, e, tag, mode, action, why }) => {
    const a = decideAction(c, [...e], mode, tag);
    expect(a.action).toBe(action);
    expect(a.why).toMatch(why);
  });

  it('lists the entries whose reload a served certificate proves', () => {
    expect(decideAction('kube-apiserver', ['apiserver', 'front-proxy-client'], 'auto', 'v1.30.0').proved).toEqual(['apiserver']);
    expect(decideAction('kube-apiserver', ['front-proxy-client'], 'auto', 'v1.30.0').proved).toEqual([]);
  });

  it.each([
    ['v1.31.4', [1, 31]], ['3.5.15-0', [3, 5]], ['v1.27', [1, 27]], ['latest', undefined], [undefined, undefined],
  ] as const)('tagVersion(%s)', (tag, want) => {
    expect(tagVersion(tag)).toEqual(want);
  });
});
