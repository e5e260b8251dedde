/**
 * decideAll and buildPlan: which entries a run renews, which it skips and whether a skip fails the run, the restarts
 * in restart order, and `renew NAME`'s scope. Hand-built inventories with a fixed clock; no I/O.
 */
import { describe, expect, it } from 'vitest';
import { emptyState, type State } from '../apply/state.js';
import { NOW, ago, ahead, caRecord, cert, inventory, leaf } from '../../test/helpers/records.js';
import type { CaRecord, LeafRecord } from '../inventory/records.js';
import { decideAll } from './decide.js';
import { buildPlan } from './plan.js';
import type { Policy } from './policy.js';

const DAY = 86_400_000;
const POLICY: Policy = { renewInterval: 30 * DAY, renewBefore: 30 * DAY, validity: 365 * DAY };
const CAS = [caRecord(), caRecord({ name: 'front-proxy-ca' }), caRecord({ name: 'etcd-ca' })];
const due = (serial = 'AB01') => cert(ago(100), ahead(265), serial);
const fresh = () => cert(ago(5), ahead(360));

function planOf(leaves: LeafRecord[], opts: { cas?: CaRecord[]; state?: State; forced?: string[]; scope?: string[] } = {}) {
  const inv = inventory(leaves, opts.cas ?? CAS);
  const decisions = decideAll(inv, POLICY, opts.state ?? emptyState(), NOW, new Set(opts.forced ?? []));
  return buildPlan(inv, decisions, opts.scope ? new Set(opts.scope) : undefined);
}

describe('buildPlan', () => {
  const leaves = () => [
    leaf('admin.conf', fresh()),
    leaf('apiserver', due('A1')),
    leaf('etcd-server', due('E1')),
    leaf('front-proxy-client', due('F1')),
    leaf('scheduler.conf', due('S1'), { files: ['/etc/kubernetes/scheduler.conf'] }),
    leaf('super-admin.conf', undefined),
  ];

  it('renews what is due, with everything the apply stage needs, in catalog order', () => {
    const plan = planOf(leaves());
    expect(plan.items.map((i) => i.name)).toEqual(['apiserver', 'etcd-server', 'front-proxy-client', 'scheduler.conf']);
    expect(plan.items[0]).toStrictEqual({
      name: 'apiserver', kind: 'pki', reasons: ['interval'], why: 'issued 100d ago ≥ renewInterval 30d', oldSerial: 'A1',
      oldNotAfter: ahead(265), newNotAfter: ahead(365), cappedByCa: false,
      files: ['/etc/kubernetes/pki/apiserver.crt', '/etc/kubernetes/pki/apiserver.key'], restarts: ['kube-apiserver'],
    });
    expect(plan.items[3]).toMatchObject({ kind: 'kubeconfig', files: ['/etc/kubernetes/scheduler.conf'], restarts: ['kube-scheduler'] });
  });

  it('restarts each component once, in restart order (etcd first), whatever the order of the items', () => {
    expect(planOf(leaves()).restarts).toEqual(['etcd', 'kube-apiserver', 'kube-scheduler']);
    expect(planOf([leaf('admin.conf', due())]).restarts).toEqual([]);
  });

  it('reports what it does not renew, and why, without failing the run for what is normal', () => {
    expect(planOf(leaves()).skipped).toStrictEqual([
      { name: 'admin.conf', due: false, why: 'not due', failure: false },
      { name: 'super-admin.conf', due: false, why: 'not present (optional)', blocker: 'missing', failure: false },
    ]);
  });

  it('carries the CA cap into the item', () => {
    const plan = planOf([leaf('apiserver', cert(ago(300), ahead(20)))], { cas: [caRecord({ notAfter: ahead(100) })] });
    expect(plan.items[0]).toMatchObject({ cappedByCa: true, newNotAfter: ahead(100) });
  });

  it('leaves entries of another topology out entirely', () => {
    const plan = planOf([leaf('etcd-server', undefined, { state: 'not-applicable' }), leaf('apiserver', fresh())]);
    expect(plan.items).toEqual([]);
    expect(plan.skipped.map((s) => s.name)).toEqual(['apiserver']);
  });

  it('with a scope (renew NAME), plans only the named entries, however due the others are', () => {
    const plan = planOf(leaves(), { scope: ['etcd-server', 'admin.conf'] });
    expect(plan.items.map((i) => i.name)).toEqual(['etcd-server']);
    expect(plan.skipped.map((s) => s.name)).toEqual(['admin.conf']);
    expect(plan.restarts).toEqual(['etcd']);
  });

  it('with an empty scope plans nothing', () => {
    expect(planOf(leaves(), { scope: [] })).toEqual({ items: [], skipped: [], restarts: [] });
  });
});

describe('which skipped entries fail the run', () => {
  it.each([
    ['required entry missing', leaf('apiserver', undefined), CAS, 'missing', true],
    ['optional entry missing', leaf('super-admin.conf', undefined), CAS, 'missing', false],
    ['unreadable certificate', leaf('apiserver', undefined, { state: 'unreadable' }), CAS, 'unreadable', true],
    ['key not matching', leaf('apiserver', due(), { problems: ['key-mismatch'] }), CAS, 'key-problem', true],
    ['signed by another CA', leaf('apiserver', due(), { problems: ['not-signed-by-ca'] }), CAS, 'not-signed-by-ca', true],
    ['CA unusable', leaf('apiserver', due()), [caRecord({ state: 'unreadable' })], 'ca-unavailable', true],
    ['CA expired', leaf('apiserver', due()), [caRecord({ notAfter: ago(1) })], 'ca-expired', true],
    ['CA expires first', leaf('apiserver', cert(ago(1), ahead(20))), [caRecord({ notAfter: ahead(20) })], 'ca-expiring', true],
    ['externally managed CA', leaf('apiserver', due()), [caRecord({ hasKey: false })], 'external-ca', false],
    ['kubelet rotates it, still valid', leaf('kubelet.conf', cert(ago(300), ahead(10)), { rotatedByKubelet: true }), CAS, 'rotated-by-kubelet', false],
    ['kubelet rotates it, but it expired', leaf('kubelet.conf', cert(ago(400), ago(1)), { rotatedByKubelet: true }), CAS, 'rotated-by-kubelet', true],
    ['not due but damaged', leaf('admin.conf', fresh(), { problems: ['kubeconfig-invalid'] }), CAS, undefined, true],
  ] as const)('%s → failure %s', (_, l, cas, blocker, failure) => {
    const plan = planOf([l], { cas: [...cas] });
    expect(plan.items).toEqual([]);
    expect(plan.skipped).toHaveLength(1);
    expect(plan.skipped[0]?.blocker).toBe(blocker);
    expect(plan.skipped[0]?.failure).toBe(failure);
  });
});

describe('decideAll', () => {
  it('decides each leaf against its own CA', () => {
    const cas = [caRecord(), caRecord({ name: 'etcd-ca', notAfter: ago(1) })];
    const decisions = decideAll(inventory([leaf('apiserver', due()), leaf('etcd-server', due())], cas), POLICY, emptyState(), NOW);
    expect(decisions.map((d) => [d.name, d.renew, d.blocker])).toEqual([['apiserver', true, undefined], ['etcd-server', false, 'ca-expired']]);
  });

  it('remembers the state’s renewal of exactly that entry', () => {
    const state = emptyState();
    state.entries.apiserver = {
      renewedAt: ago(2).toISOString(), runId: 'r1', oldSerial: 'OLD', newSerial: 'AB01',
      oldNotAfter: ago(1).toISOString(), newNotAfter: ahead(265).toISOString(),
    };
    const decisions = decideAll(inventory([leaf('apiserver', due()), leaf('apiserver-kubelet-client', due())]), POLICY, state, NOW);
    expect(decisions.map((d) => [d.name, d.issuedAtSource, d.due])).toEqual([
      ['apiserver', 'state', false],
      ['apiserver-kubelet-client', 'notBefore', true],
    ]);
  });

  it('forces only the named entries', () => {
    const decisions = decideAll(inventory([leaf('admin.conf', fresh()), leaf('apiserver', fresh())]), POLICY, emptyState(), NOW, new Set(['apiserver']));
    expect(decisions.map((d) => [d.name, d.reasons])).toEqual([['admin.conf', []], ['apiserver', ['forced']]]);
  });
});
