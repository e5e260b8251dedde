/**
 * The renewal plan: what `run` (or `renew`) would do now, built purely from the inventory and the decisions.
 * Entries that are bad (unreadable, mismatched key, foreign CA, expiring CA) are failures: reported, skipped, and
 * they make the run exit 1, while the others still renew.
 */
import { COMPONENTS, type Component } from '../catalog.js';
import { type Inventory, type LeafRecord, isAdvisory } from '../inventory/records.js';
import type { Blocker, Decision, DueReason } from './policy.js';

export interface PlanItem {
  name: string;
  kind: 'pki' | 'kubeconfig';
  reasons: DueReason[];
  why: string;
  oldSerial: string;
  oldNotAfter: Date;
  newNotAfter: Date;
  cappedByCa: boolean;
  files: string[];
  restarts: Component[];
}

export interface SkippedItem {
  name: string;
  due: boolean;
  blocker?: Blocker;
  why: string;
  /** The entry needs the operator: the run exits 1. */
  failure: boolean;
}

export interface RenewalPlan {
  items: PlanItem[];
  skipped: SkippedItem[];
  /** Components to restart, in restart order. */
  restarts: Component[];
}

const FAILING_BLOCKERS: ReadonlySet<Blocker> = new Set([
  'unreadable', 'key-problem', 'not-signed-by-ca', 'ca-unavailable', 'ca-expired', 'ca-expiring',
]);

function isFailure(leaf: LeafRecord, d: Decision): boolean {
  if (d.blocker === 'missing') return !leaf.entry.optional;
  if (d.blocker && FAILING_BLOCKERS.has(d.blocker)) return true;
  // The kubelet renews kubelet.conf's certificate itself; an expired one means that rotation is broken.
  if (d.blocker === 'rotated-by-kubelet') return d.reasons.includes('expired');
  return leaf.problems.some((p) => !isAdvisory(p)) && d.blocker !== 'not-applicable';
}

/**
 * @param scope when given (`renew NAME...`), only these entries are planned — renewed or reported as skipped — however
 *   due the others are, as kubeadm's `certs renew NAME` does.
 */
export function buildPlan(inventory: Inventory, decisions: Decision[], scope?: ReadonlySet<string>): RenewalPlan {
  const items: PlanItem[] = [];
  const skipped: SkippedItem[] = [];
  inventory.leaves.forEach((leaf, i) => {
    const d = decisions[i];
    if (!d || leaf.state === 'not-applicable') return;
    if (scope && !scope.has(leaf.entry.name)) return;
    if (d.renew && leaf.cert && d.newNotAfter) {
      items.push({
        name: leaf.entry.name,
        kind: leaf.entry.kind,
        reasons: d.reasons,
        why: d.why,
        oldSerial: leaf.cert.serial,
        oldNotAfter: leaf.cert.notAfter,
        newNotAfter: d.newNotAfter,
        cappedByCa: d.cappedByCa ?? false,
        files: leaf.files,
        restarts: [...leaf.entry.restarts],
      });
      return;
    }
    const item: SkippedItem = { name: leaf.entry.name, due: d.due, why: d.why, failure: isFailure(leaf, d) };
    if (d.blocker) item.blocker = d.blocker;
    skipped.push(item);
  });
  const wanted = new Set(items.flatMap((i) => i.restarts));
  return { items, skipped, restarts: COMPONENTS.filter((c) => wanted.has(c)) };
}
