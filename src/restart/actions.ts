/**
 * Reload or restart, per component, for a set of renewed entries: the catalog's decision with the image tag read
 * from the component's manifest. `plan`, `run` and the journal use the same answer.
 */
import { join } from 'node:path';
import { COMPONENTS, type Component, LEAVES } from '../catalog.js';
import { COMPONENT_CATALOG, type ComponentAction, decideAction } from '../components.js';
import type { Config } from '../config/config.js';
import type { HostPaths } from '../host/paths.js';
import { readBoundedText } from '../host/read.js';
import { parseManifest } from './manifest.js';
import { manifestImageTag } from './targets.js';

function imageTag(component: Component, paths: HostPaths): string | undefined {
  const spec = COMPONENT_CATALOG[component];
  if (spec.kind !== 'static-pod') return undefined;
  const file = join(paths.manifests, spec.manifest);
  try {
    return manifestImageTag(parseManifest(readBoundedText(file, 'manifest'), file));
  } catch {
    return undefined; // no readable manifest: the restart path reports it
  }
}

export function budgetOf(component: Component, config: Config): number {
  const budgets = config.restart.reloadBudget as Record<string, number>;
  return budgets[component] ?? COMPONENT_CATALOG[component].reloadBudgetMs;
}

/** One action per component in `components` (restart order), for the renewed `entries`. */
export function componentActions(entries: string[], components: Component[], config: Config, paths: HostPaths): ComponentAction[] {
  const wanted = new Set(components);
  return COMPONENTS.filter((c) => wanted.has(c)).map((component) => {
    const mine = entries.filter((e) => LEAVES.find((l) => l.name === e)?.restarts.includes(component));
    return decideAction(component, mine, config.restart.mode, imageTag(component, paths), budgetOf(component, config));
  });
}
