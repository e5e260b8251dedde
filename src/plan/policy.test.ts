import { describe, expect, it } from 'vitest';
import { LEAVES, findCa, type LeafEntry } from '../catalog.js';
import type { CaRecord, LeafRecord, Problem } from '../inventory/records.js';
import type { CertFacts } from '../pki/certificate.js';
import { type Policy, type RenewalMemory, decide, issuedAt } from './policy.js';

const DAY = 86_400_000;
const NOW = new Date('2026-11-22T12:00:00Z');
const ago = (d: number): Date => new Date(NOW.getTime() - d * DAY);
const ahead = (d: number): Date => new Date(NOW.getTime() + d * DAY);

function entry(name: string): LeafEntry {
  const e = LEAVES.find((l) => l.name === name);
  if (!e) throw new Error(name);
  return e;
}

function cert(notBefore: Date, notAfter: Date, serial = 'AB01'): CertFacts {
  return { notBefore, notAfter, serial } as CertFacts;
}

function caRecord(opts: { notBefore?: Date; notAfter?: Date; hasKey?: boolean; state?: CaRecord['state'] } = {}): CaRecord {
  return {
    entry: findCa('ca'),
    state: opts.state ?? 'present',
    certPath: '/etc/kubernetes/pki/ca.crt',
    keyPath: '/etc/kubernetes/pki/ca.key',
    cert: opts.state === 'missing' ? undefined : cert(opts.notBefore ?? ago(1000), opts.notAfter ?? ahead(2650)),
    hasKey: opts.hasKey ?? true,
    problems: [],
  };
}

function leaf(
  name: string,
  c: CertFacts | undefined,
  opts: { state?: LeafRecord['state']; problems?: Problem['code'][]; rotatedByKubelet?: boolean } = {},
): LeafRecord {
  return {
    entry: entry(name),
    state: opts.state ?? (c ? 'present' : 'missing'),
    certPath: `/etc/kubernetes/pki/${name}.crt`,
    files: [],
    cert: c,
    rotatedByKubelet: opts.rotatedByKubelet ?? false,
    problems: (opts.problems ?? []).map((code) => ({ code, file: 'f', message: 'm', hint: 'h' })),
  };
}

const policy = (p: Partial<Policy> = {}): Policy => ({ renewInterval: 30 * DAY, renewBefore: 30 * DAY, validity: 365 * DAY, ...p });

describe('issuedAt', () => {
  it('derives the issue date from notAfter when notBefore is the CA’s (older kubeadm)', () => {
    const ca = caRecord({ notBefore: ago(1500) });
    const renewed5DaysAgo = leaf('apiserver', cert(ago(1500), ahead(360)));
    expect(issuedAt(renewed5DaysAgo, ca, undefined, NOW)).toEqual({ at: ago(5), source: 'kubeadm-legacy' });
  });

  it('takes notBefore when it is not the CA’s', () => {
    const l = leaf('apiserver', cert(ago(5), ahead(360)));
    expect(issuedAt(l, caRecord(), undefined, NOW)).toEqual({ at: ago(5), source: 'notBefore' });
  });

  it('prefers the recorded renewal for the same serial, ignores it for another serial', () => {
    const memory: RenewalMemory = { renewedAt: ago(2).toISOString(), newSerial: 'AB01' };
    const l = leaf('apiserver', cert(ago(1000), ahead(360), 'AB01'));
    expect(issuedAt(l, caRecord({ notBefore: ago(1000) }), memory, NOW)).toEqual({ at: ago(2), source: 'state' });
    const other = leaf('apiserver', cert(ago(7), ahead(358), 'CD02'));
    expect(issuedAt(other, caRecord(), memory, NOW)?.source).toBe('notBefore');
  });
});

describe('decide', () => {
  const oldCa = caRecord({ notBefore: ago(1500) });
  it.each([
    // name, leaf, ca, policy, expected due, reasons, renew
    ['fresh cert', leaf('apiserver', cert(ago(5), ahead(360))), caRecord(), policy(), false, [], false],
    ['notBefore trap: renewed 5 days ago, notBefore years old', leaf('apiserver', cert(ago(1500), ahead(360))), oldCa, policy(), false, [], false],
    ['old-style notBefore, renewed 40 days ago', leaf('apiserver', cert(ago(1500), ahead(325))), oldCa, policy(), true, ['interval'], true],
    ['issued 30 days ago exactly', leaf('apiserver', cert(ago(30), ahead(335))), caRecord(), policy(), true, ['interval'], true],
    ['interval disabled', leaf('apiserver', cert(ago(300), ahead(65))), caRecord(), policy({ renewInterval: 0 }), false, [], false],
    ['deadline: 20 days left', leaf('apiserver', cert(ago(5), ahead(20))), caRecord(), policy({ renewInterval: 0 }), true, ['deadline'], true],
    ['expired', leaf('apiserver', cert(ago(400), ago(35))), caRecord(), policy(), true, ['expired', 'interval'], true],
    ['missing optional super-admin.conf', leaf('super-admin.conf', undefined), caRecord(), policy(), false, [], false],
    ['missing required apiserver', leaf('apiserver', undefined), caRecord(), policy(), false, [], false],
    ['external etcd', leaf('etcd-server', undefined, { state: 'not-applicable' }), caRecord(), policy(), false, [], false],
    ['external CA, due', leaf('apiserver', cert(ago(400), ago(35))), caRecord({ hasKey: false }), policy(), true, ['expired', 'interval'], false],
    ['kubelet rotates its own: not due for us', leaf('kubelet.conf', cert(ago(200), ahead(20)), { rotatedByKubelet: true }), caRecord(), policy(), false, [], false],
    ['kubelet rotates its own, but it expired', leaf('kubelet.conf', cert(ago(400), ago(1)), { rotatedByKubelet: true }), caRecord(), policy(), true, ['expired'], false],
    ['key mismatch', leaf('apiserver', cert(ago(100), ahead(265)), { problems: ['key-mismatch'] }), caRecord(), policy(), true, ['interval'], false],
    ['not signed by CA', leaf('apiserver', cert(ago(100), ahead(265)), { problems: ['not-signed-by-ca'] }), caRecord(), policy(), true, ['interval'], false],
    ['CA expired', leaf('apiserver', cert(ago(400), ago(1))), caRecord({ notAfter: ago(1) }), policy(), true, ['expired', 'interval'], false],
    ['CA missing', leaf('apiserver', cert(ago(100), ahead(265))), caRecord({ state: 'missing' }), policy(), true, ['interval'], false],
  ] as const)('%s', (_, l, ca, p, due, reasons, renew) => {
    const d = decide(l, ca, undefined, p, NOW);
    expect(d.due).toBe(due);
    expect(d.reasons).toEqual(reasons);
    expect(d.renew).toBe(renew);
  });

  it('gives each blocker and a reason a person can read', () => {
    expect(decide(leaf('apiserver', cert(ago(400), ago(35))), caRecord({ hasKey: false }), undefined, policy(), NOW)).toMatchObject({
      blocker: 'external-ca',
      why: expect.stringMatching(/expired 35d ago.*externally managed CA/),
    });
    expect(decide(leaf('super-admin.conf', undefined), caRecord(), undefined, policy(), NOW)).toMatchObject({
      why: 'not present (optional)',
    });
    expect(decide(leaf('apiserver', undefined), caRecord(), undefined, policy(), NOW)).toMatchObject({ blocker: 'missing' });
    expect(decide(leaf('etcd-peer', undefined, { state: 'not-applicable' }), caRecord(), undefined, policy(), NOW).blocker).toBe('not-applicable');
  });

  it('forces renewal on request, also over a broken key, never over a foreign CA', () => {
    const fresh = decide(leaf('apiserver', cert(ago(1), ahead(364))), caRecord(), undefined, policy(), NOW, true);
    expect(fresh).toMatchObject({ due: true, reasons: ['forced'], renew: true });
    const brokenKey = leaf('apiserver', cert(ago(1), ahead(364)), { problems: ['key-mismatch'] });
    expect(decide(brokenKey, caRecord(), undefined, policy(), NOW, true).renew).toBe(true);
    const foreign = leaf('apiserver', cert(ago(1), ahead(364)), { problems: ['not-signed-by-ca'] });
    expect(decide(foreign, caRecord(), undefined, policy(), NOW, true).renew).toBe(false);
  });

  it('caps the new expiry at the CA’s and stops renewing when that gains nothing', () => {
    const ca = caRecord({ notAfter: ahead(100) });
    const first = decide(leaf('apiserver', cert(ago(300), ahead(20))), ca, undefined, policy(), NOW);
    expect(first).toMatchObject({ renew: true, cappedByCa: true, newNotAfter: ahead(100) });
    const ca2 = caRecord({ notAfter: ahead(20) });
    const again = decide(leaf('apiserver', cert(ago(1), ahead(20))), ca2, undefined, policy(), NOW);
    expect(again).toMatchObject({ due: true, renew: false, blocker: 'ca-expiring' });
  });

  it('sets notAfter to now + validity', () => {
    const d = decide(leaf('apiserver', cert(ago(40), ahead(325))), caRecord(), undefined, policy({ validity: 90 * DAY }), NOW);
    expect(d.newNotAfter).toEqual(ahead(90));
    expect(d.cappedByCa).toBe(false);
  });
});
