/**
 * The policy at its edges: each boundary of the due rules, each blocker, the exact sentence `status` and `plan`
 * print, and the whole decision object. policy.test.ts holds the common cases.
 */
import { describe, expect, it } from 'vitest';
import { DAY, HOUR, NOW, ago, ahead, at, caRecord, cert, leaf } from '../../test/helpers/records.js';
import { type Blocker, type Policy, blockerText, decide, issuedAt } from './policy.js';

const policy = (p: Partial<Policy> = {}): Policy => ({ renewInterval: 30 * DAY, renewBefore: 30 * DAY, validity: 365 * DAY, ...p });
const noInterval = policy({ renewInterval: 0 });

describe('the due rules at their boundaries', () => {
  it.each([
    ['expires this very instant: expired', cert(ago(5), NOW), noInterval, ['expired']],
    ['expires in 1 ms: deadline, not expired', cert(ago(5), at(1)), noInterval, ['deadline']],
    ['exactly renewBefore left: not yet due', cert(ago(5), ahead(30)), noInterval, []],
    ['1 ms less than renewBefore left: deadline', cert(ago(5), at(30 * DAY - 1)), noInterval, ['deadline']],
    ['renewBefore 0 disables the deadline', cert(ago(5), ahead(1)), policy({ renewInterval: 0, renewBefore: 0 }), []],
    ['1 ms short of the interval: not due', cert(at(-30 * DAY + 1), ahead(300)), policy({ renewBefore: 0 }), []],
    ['exactly the interval: due', cert(ago(30), ahead(300)), policy({ renewBefore: 0 }), ['interval']],
  ] as const)('%s', (_, c, p, reasons) => {
    expect(decide(leaf('apiserver', c), caRecord(), undefined, p, NOW).reasons).toEqual(reasons);
  });
});

describe('the sentence status and plan print', () => {
  const cappingCa = caRecord({ notAfter: ahead(100) });
  it.each([
    ['fresh', cert(ago(5), ahead(360)), caRecord(), policy(), false, 'not due'],
    ['requested', cert(ago(5), ahead(360)), caRecord(), policy(), true, 'renewal requested'],
    ['expired hours ago', cert(ago(400), at(-5 * HOUR)), caRecord(), noInterval, false, 'expired 5h ago'],
    ['expired a day ago', cert(ago(400), ago(1)), caRecord(), noInterval, false, 'expired 1d ago'],
    ['hours left', cert(ago(5), at(10 * HOUR)), caRecord(), noInterval, false, '10h left < renewBefore 30d'],
    ['interval', cert(ago(40), ahead(325)), caRecord(), policy(), false, 'issued 40d ago ≥ renewInterval 30d'],
    ['expired and old', cert(ago(400), ago(35)), caRecord(), policy(), false, 'expired 35d ago; issued 400d ago ≥ renewInterval 30d'],
    [
      'due and capped by the CA', cert(ago(300), ahead(20)), cappingCa, policy(), false,
      '20d left < renewBefore 30d; issued 300d ago ≥ renewInterval 30d; validity capped at the CA’s expiry',
    ],
    ['capped by the CA but not due', cert(ago(5), ahead(60)), cappingCa, policy(), false, 'not due'],
    [
      'CA expires first', cert(ago(1), ahead(20)), caRecord({ notAfter: ahead(20) }), policy(), false,
      '20d left < renewBefore 30d; its CA expires first: rotate the CA',
    ],
    ['CA expired', cert(ago(5), ahead(360)), caRecord({ notAfter: ago(1) }), policy(), false, 'not due; its CA has expired: rotate the CA'],
  ] as const)('%s', (_, c, ca, p, forced, why) => {
    expect(decide(leaf('apiserver', c), ca, undefined, p, NOW, forced).why).toBe(why);
  });

  it('says why a kubelet-rotated entry is left alone, and why an absent one is', () => {
    const rotated = leaf('kubelet.conf', cert(ago(200), ahead(20)), { rotatedByKubelet: true });
    expect(decide(rotated, caRecord(), undefined, policy(), NOW).why).toBe('not due; rotated by the kubelet');
    expect(decide(leaf('apiserver', undefined), caRecord(), undefined, policy(), NOW).why).toBe('missing');
    expect(decide(leaf('super-admin.conf', undefined), caRecord(), undefined, policy(), NOW).why).toBe('not present (optional)');
    // An optional entry that is there but broken is a problem, not "not present".
    const brokenOptional = leaf('super-admin.conf', undefined, { state: 'unreadable' });
    expect(decide(brokenOptional, caRecord(), undefined, policy(), NOW)).toMatchObject({ why: 'cannot be read', blocker: 'unreadable' });
    const external = leaf('etcd-server', undefined, { state: 'not-applicable' });
    expect(decide(external, caRecord(), undefined, policy(), NOW).why).toBe('not used with external etcd');
  });

  it.each([
    ['not-applicable', 'not used with external etcd'],
    ['missing', 'missing'],
    ['unreadable', 'cannot be read'],
    ['rotated-by-kubelet', 'rotated by the kubelet'],
    ['ca-unavailable', 'its CA cannot be used'],
    ['external-ca', 'externally managed CA'],
    ['key-problem', 'key missing or not matching'],
    ['not-signed-by-ca', 'not signed by its CA'],
    ['ca-expired', 'its CA has expired: rotate the CA'],
    ['ca-expiring', 'its CA expires first: rotate the CA'],
  ] as const)('blocker %s reads "%s"', (blocker: Blocker, text) => {
    expect(blockerText(blocker)).toBe(text);
  });
});

describe('blockers', () => {
  const due = cert(ago(100), ahead(10));
  it.each([
    ['no CA record at all', leaf('apiserver', due), undefined, 'ca-unavailable'],
    ['CA certificate missing', leaf('apiserver', due), caRecord({ state: 'missing' }), 'ca-unavailable'],
    ['CA key present but unreadable', leaf('apiserver', due), caRecord({ hasKey: false, problems: ['key-unreadable'] }), 'ca-unavailable'],
    ['no CA key at all: external CA', leaf('apiserver', due), caRecord({ hasKey: false }), 'external-ca'],
    ['key unreadable', leaf('apiserver', due, { problems: ['key-unreadable'] }), caRecord(), 'key-problem'],
    ['key mismatch', leaf('apiserver', due, { problems: ['key-mismatch'] }), caRecord(), 'key-problem'],
    ['unreadable certificate', leaf('apiserver', undefined, { state: 'unreadable' }), caRecord(), 'unreadable'],
  ] as const)('%s → %s, not renewed, no new expiry', (_, l, ca, blocker) => {
    const d = decide(l, ca, undefined, policy(), NOW);
    expect(d.blocker).toBe(blocker);
    expect(d.renew).toBe(false);
    expect(d.newNotAfter).toBeUndefined();
  });

  it('a forced renewal repairs an unreadable key, as it does a mismatched one', () => {
    const l = leaf('apiserver', cert(ago(1), ahead(364)), { problems: ['key-unreadable'] });
    expect(decide(l, caRecord(), undefined, policy(), NOW, true)).toMatchObject({ renew: true, reasons: ['forced'] });
  });
});

describe('the new expiry against the CA’s', () => {
  it('refuses when the CA expires this very instant, however due the leaf is', () => {
    const d = decide(leaf('apiserver', cert(ago(400), ago(1))), caRecord({ notAfter: NOW }), undefined, policy(), NOW);
    expect(d).toMatchObject({ due: true, renew: false, blocker: 'ca-expired' });
    expect(d.newNotAfter).toBeUndefined();
  });

  it('is not capped when the CA ends exactly at now + validity', () => {
    const d = decide(leaf('apiserver', cert(ago(40), ahead(325))), caRecord({ notAfter: ahead(365) }), undefined, policy(), NOW);
    expect(d).toMatchObject({ renew: true, cappedByCa: false, newNotAfter: ahead(365), why: 'issued 40d ago ≥ renewInterval 30d' });
  });

  it('renews when capping still gains a whole day, not when it gains less', () => {
    const gainsADay = decide(leaf('apiserver', cert(ago(1), ahead(20))), caRecord({ notAfter: ahead(21) }), undefined, policy(), NOW);
    expect(gainsADay).toMatchObject({ renew: true, cappedByCa: true, newNotAfter: ahead(21) });
    const gainsLess = decide(leaf('apiserver', cert(ago(1), ahead(20))), caRecord({ notAfter: at(21 * DAY - 1) }), undefined, policy(), NOW);
    expect(gainsLess).toMatchObject({ renew: false, blocker: 'ca-expiring' });
  });

  it('honours a forced renewal even when the CA cap gains nothing', () => {
    const d = decide(leaf('apiserver', cert(ago(1), ahead(20))), caRecord({ notAfter: ahead(20) }), undefined, policy(), NOW, true);
    expect(d).toMatchObject({ renew: true, cappedByCa: true, newNotAfter: ahead(20) });
    expect(d.blocker).toBeUndefined();
  });

  it('blames the CA only for a due leaf: a leaf not due under a near CA has no blocker', () => {
    const d = decide(leaf('apiserver', cert(ago(1), at(19.5 * DAY))), caRecord({ notAfter: ahead(20) }), undefined, policy({ renewBefore: 10 * DAY }), NOW);
    expect(d).toMatchObject({ due: false, renew: false, cappedByCa: true, why: 'not due' });
    expect(d.blocker).toBeUndefined();
  });

  it('renews by interval a long-lived leaf whose renewal would not move its expiry, when the CA is not the cap', () => {
    const d = decide(leaf('apiserver', cert(ago(40), ahead(365))), caRecord(), undefined, policy(), NOW);
    expect(d).toMatchObject({ renew: true, cappedByCa: false, newNotAfter: ahead(365) });
  });
});

describe('issuedAt at its edges', () => {
  it('has no issue date without a certificate', () => {
    expect(issuedAt(leaf('apiserver', undefined), caRecord(), undefined, NOW)).toBeUndefined();
  });

  it('ignores a remembered renewal whose date is damaged', () => {
    const memory = { renewedAt: 'not a date', newSerial: 'AB01' };
    expect(issuedAt(leaf('apiserver', cert(ago(7), ahead(358))), caRecord(), memory, NOW)).toEqual({ at: ago(7), source: 'notBefore' });
  });

  it('takes notBefore when the CA is unknown', () => {
    expect(issuedAt(leaf('apiserver', cert(ago(7), ahead(358))), undefined, undefined, NOW)).toEqual({ at: ago(7), source: 'notBefore' });
  });

  it('takes a long-lived leaf’s own notBefore, not one derived from kubeadm’s old fixed validity', () => {
    const twoYears = leaf('apiserver', cert(ago(10), ahead(720)));
    expect(issuedAt(twoYears, caRecord(), undefined, NOW)).toEqual({ at: ago(10), source: 'notBefore' });
  });

  it('treats notBefore as the CA’s only within the same second', () => {
    const ca = caRecord({ notBefore: ago(1500) });
    const copied = leaf('apiserver', cert(ago(1500), ahead(360)));
    expect(issuedAt(copied, ca, undefined, NOW)?.source).toBe('kubeadm-legacy');
    const ownSecond = leaf('apiserver', cert(at(-1500 * DAY + 1000), ahead(360)));
    expect(issuedAt(ownSecond, ca, undefined, NOW)?.source).toBe('notBefore');
  });
});

describe('the whole decision', () => {
  it('for a renewal: dates, age, remaining, source and new expiry, nothing more', () => {
    const d = decide(leaf('apiserver', cert(ago(40), ahead(325))), caRecord(), undefined, policy(), NOW);
    expect(d).toStrictEqual({
      name: 'apiserver', due: true, reasons: ['interval'], renew: true, age: 40 * DAY, remaining: 325 * DAY,
      why: 'issued 40d ago ≥ renewInterval 30d', issuedAt: ago(40), issuedAtSource: 'notBefore',
      newNotAfter: ahead(365), cappedByCa: false,
    });
  });

  it('for a blocked entry: no new expiry and no cap flag', () => {
    const d = decide(leaf('apiserver', cert(ago(40), ahead(325))), caRecord({ hasKey: false }), undefined, policy(), NOW);
    expect(d).toStrictEqual({
      name: 'apiserver', due: true, reasons: ['interval'], renew: false, age: 40 * DAY, remaining: 325 * DAY,
      why: 'issued 40d ago ≥ renewInterval 30d; externally managed CA', issuedAt: ago(40), issuedAtSource: 'notBefore',
      blocker: 'external-ca',
    });
  });

  it('for a missing entry: only name, verdict and why', () => {
    expect(decide(leaf('apiserver', undefined), caRecord(), undefined, policy(), NOW)).toStrictEqual({
      name: 'apiserver', due: false, reasons: [], renew: false, why: 'missing', blocker: 'missing',
    });
  });
});
