/**
 * The decide stage's entry: one decision per inventory leaf, from the policy, the state's memory of past renewals and
 * an injected clock. Pure: `status`, `plan` and `run` all decide through here.
 */
import type { Inventory } from '../inventory/records.js';
import type { State } from '../apply/state.js';
import { type Decision, type Policy, decide } from './policy.js';

/** Decisions for every leaf, with the state's memory of past renewals. */
export function decideAll(inventory: Inventory, policy: Policy, state: State, now: Date, forced: ReadonlySet<string> = new Set()): Decision[] {
  return inventory.leaves.map((leaf) => {
    const ca = inventory.cas.find((c) => c.entry.name === leaf.entry.ca);
    const memory = state.entries[leaf.entry.name];
    return decide(leaf, ca, memory, policy, now, forced.has(leaf.entry.name));
  });
}

