/**
 * Due or not, and why: a pure function of one inventory record, the policy, what the state file remembers and an
 * injected clock. `plan`, `run` and `status` all decide through here.
 */
import type { CaRecord, LeafRecord } from '../inventory/records.js';

export interface Policy {
  /** Renew certificates issued longer ago than this (ms); 0 disables. */
  renewInterval: number;
  /** Renew when less than this remains (ms). */
  renewBefore: number;
  /** Lifetime of a renewed certificate (ms). */
  validity: number;
}

/** What the state file remembers about the last renewal of an entry. */
export interface RenewalMemory {
  renewedAt: string;
  newSerial: string;
}

export type DueReason = 'expired' | 'deadline' | 'interval' | 'forced';

/** Why an entry that exists is not renewed here, whatever its dates. */
export type Blocker =
  | 'not-applicable'
  | 'missing'
  | 'unreadable'
  | 'rotated-by-kubelet'
  | 'ca-unavailable'
  | 'external-ca'
  | 'key-problem'
  | 'not-signed-by-ca'
  | 'ca-expired'
  | 'ca-expiring';

export type IssuedAtSource = 'state' | 'notBefore' | 'kubeadm-legacy';

export interface Decision {
  name: string;
  /** The dates or an operator's request call for a renewal. */
  due: boolean;
  reasons: DueReason[];
  /** Present when the entry will not be renewed here. */
  blocker?: Blocker;
  /** due and nothing blocks it: `run` renews it. */
  renew: boolean;
  issuedAt?: Date;
  issuedAtSource?: IssuedAtSource;
  /** ms since issue and until expiry (negative when expired). */
  age?: number;
  remaining?: number;
  /** notAfter a renewal now would give, and whether the CA's own expiry capped it. */
  newNotAfter?: Date;
  cappedByCa?: boolean;
  /** One line for tables and logs. */
  why: string;
}

/** kubeadm's fixed leaf validity before certificateValidityPeriod existed (and when notBefore was the CA's). */
export const KUBEADM_LEGACY_VALIDITY = 365 * 86_400_000;
const SAME_INSTANT = 1_000;
const DAY = 86_400_000;

function days(ms: number): string {
  const d = ms / DAY;
  return d >= 1 || d <= -1 ? `${Math.floor(d)}d` : `${Math.floor(ms / 3_600_000)}h`;
}

/**
 * When a certificate was really issued. notBefore is not the issue date: older kubeadm copied the CA's notBefore
 * into every leaf (so a leaf renewed last week can say 2019), newer kubeadm writes now − 5 minutes.
 * 1. A renewal this agent recorded for exactly this serial.
 * 2. notBefore equal to the CA's notBefore: issued notAfter − 365 days (kubeadm's fixed validity then).
 * 3. Otherwise notBefore.
 */
export function issuedAt(
  leaf: LeafRecord,
  ca: CaRecord | undefined,
  memory: RenewalMemory | undefined,
  now: Date,
): { at: Date; source: IssuedAtSource } | undefined {
  const cert = leaf.cert;
  if (!cert) return undefined;
  if (memory && memory.newSerial === cert.serial) {
    const at = new Date(memory.renewedAt);
    if (!Number.isNaN(at.getTime())) return { at, source: 'state' };
  }
  const caBefore = ca?.cert?.notBefore.getTime();
  if (caBefore !== undefined && Math.abs(cert.notBefore.getTime() - caBefore) < SAME_INSTANT) {
    const derived = Math.max(cert.notBefore.getTime(), cert.notAfter.getTime() - KUBEADM_LEGACY_VALIDITY);
    return { at: new Date(Math.min(derived, now.getTime())), source: 'kubeadm-legacy' };
  }
  return { at: cert.notBefore, source: 'notBefore' };
}

function blockerOf(leaf: LeafRecord, ca: CaRecord | undefined, forced: boolean): Blocker | undefined {
  if (leaf.state === 'not-applicable') return 'not-applicable';
  if (leaf.state === 'missing') return 'missing';
  if (leaf.state === 'unreadable' || !leaf.cert) return 'unreadable';
  if (leaf.rotatedByKubelet) return 'rotated-by-kubelet';
  if (!ca || ca.state !== 'present' || !ca.cert) return 'ca-unavailable';
  if (!ca.hasKey) return ca.problems.length > 0 ? 'ca-unavailable' : 'external-ca';
  if (leaf.problems.some((p) => p.code === 'not-signed-by-ca')) return 'not-signed-by-ca';
  // A forced renewal replaces the key anyway, so it may repair a lost or mismatched key.
  if (!forced && leaf.problems.some((p) => p.code === 'key-mismatch' || p.code === 'key-unreadable')) {
    return 'key-problem';
  }
  return undefined;
}

const BLOCKER_TEXT: Record<Blocker, string> = {
  'not-applicable': 'not used with external etcd',
  missing: 'missing',
  unreadable: 'cannot be read',
  'rotated-by-kubelet': 'rotated by the kubelet',
  'ca-unavailable': 'its CA cannot be used',
  'external-ca': 'externally managed CA',
  'key-problem': 'key missing or not matching',
  'not-signed-by-ca': 'not signed by its CA',
  'ca-expired': 'its CA has expired: rotate the CA',
  'ca-expiring': 'its CA expires first: rotate the CA',
};

export function blockerText(blocker: Blocker): string {
  return BLOCKER_TEXT[blocker];
}

/** Why the dates (or the operator) call for a renewal; the kubelet's own rotation leaves only "expired". */
function dueReasons(remaining: number, age: number | undefined, policy: Policy, forced: boolean, blocker: Blocker | undefined): DueReason[] {
  const reasons: DueReason[] = [];
  if (forced) reasons.push('forced');
  if (remaining <= 0) reasons.push('expired');
  else if (policy.renewBefore > 0 && remaining < policy.renewBefore) reasons.push('deadline');
  if (policy.renewInterval > 0 && age !== undefined && age >= policy.renewInterval) reasons.push('interval');
  // The kubelet renews its own client certificate well before expiry: only an expired one concerns us (its
  // rotation is broken), never the interval or deadline meant for certificates we renew.
  if (blocker === 'rotated-by-kubelet') return reasons.filter((r) => r === 'expired');
  return reasons;
}

/** The notAfter a renewal now would get (capped at the CA's expiry), or the CA-side blocker that prevents it. */
function newExpiry(
  certNotAfter: Date, caNotAfter: Date, t: number, policy: Policy, due: boolean, forced: boolean,
): { newNotAfter?: Date; cappedByCa: boolean; blocker?: Blocker } {
  const wanted = t + policy.validity;
  const caEnd = caNotAfter.getTime();
  if (caEnd <= t) return { cappedByCa: false, blocker: 'ca-expired' };
  const cappedByCa = wanted > caEnd;
  const newNotAfter = new Date(Math.min(wanted, caEnd));
  // Renewing again would not move the expiry: the CA, not the leaf, is what needs attention.
  if (cappedByCa && !forced && due && newNotAfter.getTime() - certNotAfter.getTime() < DAY) {
    return { newNotAfter, cappedByCa, blocker: 'ca-expiring' };
  }
  return { newNotAfter, cappedByCa };
}

function whyText(reasons: DueReason[], remaining: number, age: number | undefined, policy: Policy, blocker: Blocker | undefined, cappedByCa: boolean): string {
  const parts: string[] = [];
  if (reasons.includes('forced')) parts.push('renewal requested');
  if (reasons.includes('expired')) parts.push(`expired ${days(-remaining)} ago`);
  if (reasons.includes('deadline')) parts.push(`${days(remaining)} left < renewBefore ${days(policy.renewBefore)}`);
  if (reasons.includes('interval') && age !== undefined) {
    parts.push(`issued ${days(age)} ago ≥ renewInterval ${days(policy.renewInterval)}`);
  }
  if (reasons.length === 0) parts.push('not due');
  if (blocker) parts.push(blockerText(blocker));
  else if (reasons.length > 0 && cappedByCa) parts.push('validity capped at the CA’s expiry');
  return parts.join('; ');
}

export function decide(
  leaf: LeafRecord,
  ca: CaRecord | undefined,
  memory: RenewalMemory | undefined,
  policy: Policy,
  now: Date,
  forced = false,
): Decision {
  const name = leaf.entry.name;
  let blocker = blockerOf(leaf, ca, forced);
  const cert = leaf.cert;
  if (!cert) {
    const why = leaf.state === 'missing' && leaf.entry.optional ? 'not present (optional)' : blockerText(blocker ?? 'unreadable');
    const decision: Decision = { name, due: false, reasons: [], renew: false, why };
    if (blocker) decision.blocker = blocker;
    return decision;
  }

  const t = now.getTime();
  const issued = issuedAt(leaf, ca, memory, now);
  const age = issued ? t - issued.at.getTime() : undefined;
  const remaining = cert.notAfter.getTime() - t;
  const reasons = dueReasons(remaining, age, policy, forced, blocker);
  const due = reasons.length > 0;
  const expiry = ca?.cert && !blocker ? newExpiry(cert.notAfter, ca.cert.notAfter, t, policy, due, forced) : { cappedByCa: false };
  blocker ??= expiry.blocker;

  const decision: Decision = {
    name, due, reasons, renew: due && !blocker, age, remaining, why: whyText(reasons, remaining, age, policy, blocker, expiry.cappedByCa),
  };
  if (issued) {
    decision.issuedAt = issued.at;
    decision.issuedAtSource = issued.source;
  }
  if (blocker) decision.blocker = blocker;
  if (expiry.newNotAfter) {
    decision.newNotAfter = expiry.newNotAfter;
    decision.cappedByCa = expiry.cappedByCa;
  }
  return decision;
}
