/**
 * One component's step of a run's restart sequence: reload or restart, as decided per component (components.ts).
 * - reload (`restart.mode: auto`, the component picks the renewed files up by itself): prove the new certificates
 *   are served over fresh TLS handshakes within the component's budget; not proved → fall back to a restart.
 * - restart: through the restart gate (cluster lock for etcd and kube-apiserver, quorum guard for etcd), then bounce
 *   and verify. A gate that refuses leaves the component untouched (`refused`).
 */
import type { Component } from '../catalog.js';
import type { RestartGate } from '../cluster/restart-gate.js';
import type { ComponentAction } from '../components.js';
import { budgetOf } from './actions.js';
import { type RestartDeps, proveReload, restartComponent } from './orchestrate.js';

export interface StepDeps extends RestartDeps {
  gate: RestartGate;
  /** The decision per component; a component without one is restarted. */
  actions: ReadonlyMap<Component, ComponentAction>;
}

export type StepOutcome =
  | { component: Component; ok: true; done: 'reloaded' | 'restarted'; seconds: number }
  | { component: Component; ok: false; bounced: boolean; refused: boolean; reason: string };

async function tryReload(component: Component, action: ComponentAction, deps: StepDeps): Promise<StepOutcome | string> {
  const budget = budgetOf(component, deps.config);
  deps.log.info({ component, action: 'reload', why: action.why, entries: action.entries }, `${component}: reload, no restart: ${action.why}`);
  await deps.notify(`waiting for ${component} to reload its certificates`);
  const proof = await proveReload(component, deps, budget);
  if (proof.ok) {
    deps.log.info({ component, action: 'reload', seconds: proof.seconds }, `${component} serves the new certificates without a restart`);
    return { component, ok: true, done: 'reloaded', seconds: proof.seconds };
  }
  return proof.reason;
}

export async function reloadOrRestart(component: Component, deps: StepDeps): Promise<StepOutcome> {
  const action = deps.actions.get(component);
  if (action?.action === 'reload' && deps.config.restart.verify) {
    const r = await tryReload(component, action, deps);
    if (typeof r !== 'string') return r;
    deps.log.warn({ component, action: 'restart', why: r }, `${component} did not show the new certificates by itself (${r}); restarting it`);
  } else {
    const why = action?.why ?? 'restarts owed by an interrupted run';
    deps.log.info({ component, action: 'restart', why, entries: action?.entries ?? [] }, `${component}: restart: ${why}`);
  }
  const gate = await deps.gate.beforeRestart(component);
  if (!gate.ok) return { component, ok: false, bounced: false, refused: true, reason: gate.reason };
  const outcome = await restartComponent(component, deps);
  if (outcome.ok) return { component, ok: true, done: 'restarted', seconds: outcome.seconds };
  return { ...outcome, refused: false };
}

export type SequenceOutcome =
  | { ok: true }
  | { ok: false; component: Component; reason: string; bounced: boolean; refused: boolean };

/**
 * Reload or restart `components` in order, each verified before the next; stops at the first failure. The cluster
 * lock is let go as soon as no restart of etcd or kube-apiserver is left (the caller releases it in any case).
 */
export async function stepInOrder(
  components: Component[],
  deps: StepDeps,
  onDone: (outcome: StepOutcome) => void,
): Promise<SequenceOutcome> {
  for (const [i, component] of components.entries()) {
    const outcome = await reloadOrRestart(component, deps);
    onDone(outcome);
    if (!outcome.ok) return { ok: false, component, reason: outcome.reason, bounced: outcome.bounced, refused: outcome.refused };
    const rest = components.slice(i + 1).filter((c) => deps.actions.get(c)?.action !== 'reload');
    await deps.gate.releaseUnlessNeeded(rest);
  }
  return { ok: true };
}
