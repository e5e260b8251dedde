/**
 * Restarts owed by renewals made with restarts off (state.json `pendingRestarts`) that happened anyway: every
 * process of the component started after the latest renewal it had not picked up (an operator restarted it, the
 * kubelet recreated the pod, the node rebooted). `status` stops naming those, and the next run forgets them.
 */
import type { Component } from '../catalog.js';
import { COMPONENT_CATALOG } from '../components.js';
import type { HostPaths } from '../host/paths.js';
import type { PendingRestart } from '../apply/state.js';
import { type ProcessMatch, allStartedAfter } from './processes.js';
import { restartTarget } from './targets.js';

function processOf(component: Component, paths: HostPaths): ProcessMatch | undefined {
  const spec = COMPONENT_CATALOG[component];
  if (!spec) return undefined;
  if (spec.kind === 'unit') return { binary: component };
  try {
    const target = restartTarget(component, paths);
    return target.kind === 'static-pod' ? target.process : undefined;
  } catch {
    return undefined; // no readable manifest: nothing tells this instance apart, so it stays owed
  }
}

/** The components of `pending` whose processes all started after the latest renewal they were owed for. */
export function restartedSinceRenewal(pending: readonly PendingRestart[], paths: HostPaths, proc = '/proc'): string[] {
  return pending.filter((p) => {
    const match = processOf(p.component as Component, paths);
    const since = new Date(p.latest ?? p.since);
    return match !== undefined && !Number.isNaN(since.getTime()) && allStartedAfter(match, since, proc);
  }).map((p) => p.component);
}
