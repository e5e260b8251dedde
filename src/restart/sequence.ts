/**
 * The restart step of a run: bounce the components the run (and any interrupted run it finished) changed, in order,
 * each verified before the next; on a failed verification roll the run back when the previous certificates are
 * still valid, or keep the new ones and say so loudly when they are not.
 */
import { COMPONENTS, type Component } from '../catalog.js';
import { type Journal, restoreRun, writeJournal } from '../apply/transaction.js';
import { type RestartDeps, restartComponent } from './orchestrate.js';

export interface SequenceResult {
  ok: boolean;
  rolledBack: boolean;
  restarted: Component[];
}

/** Previous certificates must stay valid at least this long to be worth rolling back to. */
const ROLLBACK_MARGIN_MS = 10 * 60_000;

export function inRestartOrder(components: Iterable<Component>): Component[] {
  const set = new Set(components);
  return COMPONENTS.filter((c) => set.has(c));
}

/** Bounce and verify `components` in order; stops at the first failure. */
export async function bounceInOrder(
  deps: RestartDeps,
  components: Component[],
  onBounced: (c: Component) => void,
): Promise<{ ok: true } | { ok: false; component: Component; reason: string; bounced: boolean }> {
  for (const component of components) {
    const outcome = await restartComponent(component, deps);
    if (outcome.ok || outcome.bounced) onBounced(component);
    if (!outcome.ok) return { ok: false, component, reason: outcome.reason, bounced: outcome.bounced };
  }
  return { ok: true };
}

export async function restartComponents(
  deps: RestartDeps,
  journal: Journal | undefined,
  owed: Journal[],
): Promise<SequenceResult> {
  const wanted = inRestartOrder([...(journal?.restarts ?? []), ...owed.flatMap((j) => j.restarts)]);
  if (!deps.config.restart.enabled || wanted.length === 0) {
    if (!deps.config.restart.enabled && journal && journal.entries.length) {
      deps.log.warn('restart.enabled is false: the renewed certificates take effect when the components restart');
    }
    return { ok: true, rolledBack: false, restarted: [] };
  }
  const restarted: Component[] = [];
  if (journal) {
    journal.phase = 'restarting';
    writeJournal(deps.paths, journal);
  }
  const result = await bounceInOrder(deps, wanted, (c) => {
    restarted.push(c);
    if (journal) {
      journal.restarted = [...restarted];
      writeJournal(deps.paths, journal);
    }
  });
  if (result.ok) {
    // Without restart.verify the components were bounced, not verified: the journal must not claim otherwise.
    if (journal && deps.config.restart.verify) {
      journal.phase = 'verified';
      journal.verified = [...restarted];
      writeJournal(deps.paths, journal);
    }
    return { ok: true, rolledBack: false, restarted };
  }

  return rollBackAfterFailure(deps, journal, result, restarted);
}

/**
 * A component failed its restart: roll the run back while the previous certificates are still valid (restore the
 * files, bounce what was bounced again), or keep the new ones and say so loudly when they are not.
 */
async function rollBackAfterFailure(
  deps: RestartDeps,
  journal: Journal | undefined,
  result: { component: Component; reason: string; bounced: boolean },
  restarted: Component[],
): Promise<SequenceResult> {
  // A bounce that never happened failed at once (a manifest that cannot be read, parsed or written): say what failed.
  const what = result.bounced
    ? `${result.component} did not come back with the new certificates within ${Math.round(deps.config.restart.verifyTimeout / 1000)}s: ${result.reason}`
    : `${result.component} could not be restarted: ${result.reason}`;
  if (!journal) {
    deps.log.error({ component: result.component }, what);
    return { ok: false, rolledBack: false, restarted };
  }
  journal.error = what;
  const now = deps.now().getTime();
  const previousValid = journal.entries.every((e) => Date.parse(e.oldNotAfter) > now + ROLLBACK_MARGIN_MS);
  if (!previousValid) {
    deps.log.fatal(
      { component: result.component, runId: journal.id },
      `${what}. NOT rolling back: the previous certificates have expired (or expire within minutes), so the new ones stay. ` +
        `Check ${result.component} now (crictl ps, kubelet logs); backups are in ${deps.paths.backups}/${journal.id}`,
    );
    journal.phase = 'failed';
    writeJournal(deps.paths, journal);
    return { ok: false, rolledBack: false, restarted };
  }
  deps.log.error({ component: result.component, runId: journal.id }, `${what}; rolling back run ${journal.id}`);
  await deps.notify(`rolling back: ${result.component} failed verification`);
  restoreRun(deps.paths, journal);
  const again = inRestartOrder(restarted.length ? restarted : [result.component]);
  const back = await bounceInOrder(deps, again, () => undefined);
  if (back.ok) {
    deps.log.error({ runId: journal.id, restored: journal.entries.map((e) => e.name) }, `rolled back run ${journal.id}: the previous certificates are in place and served again`);
  } else {
    deps.log.fatal({ runId: journal.id, component: back.component }, `rolled back run ${journal.id}, but ${back.component} did not come back with the restored certificates either: ${back.reason}`);
  }
  journal.phase = 'rolled-back';
  writeJournal(deps.paths, journal);
  return { ok: false, rolledBack: true, restarted };
}
