/**
 * The restart step of a run: reload or restart the components the run (and any interrupted run it finished)
 * changed, in order, each verified before the next, restarts of etcd and kube-apiserver behind the restart gate
 * (cluster lock, quorum guard); on a failure roll the run back when the previous certificates are still valid, or
 * keep the new ones and say so loudly when they are not.
 */
import { COMPONENTS, type Component } from '../catalog.js';
import { hostText } from '../host/paths.js';
import { RestartGate } from '../cluster/restart-gate.js';
import type { ComponentAction } from '../components.js';
import { type Journal, restoreRun, writeJournal } from '../apply/transaction.js';
import { componentActions } from './actions.js';
import type { RestartDeps } from './orchestrate.js';
import { type SequenceOutcome, type StepDeps, type StepOutcome, stepInOrder } from './step.js';

export interface SequenceResult {
  ok: boolean;
  rolledBack: boolean;
  restarted: Component[];
  /** What was done per component (reload or restart) and why, as recorded in the journal. */
  actions?: Array<{ component: Component; action: 'reload' | 'restart'; why: string }>;
}

/** Previous certificates must stay valid at least this long to be worth rolling back to. */
const ROLLBACK_MARGIN_MS = 10 * 60_000;

export function inRestartOrder(components: Iterable<Component>): Component[] {
  const set = new Set(components);
  return COMPONENTS.filter((c) => set.has(c));
}

/**
 * Run `work` with the restart gate of this run (cluster lock, quorum guard) and the per-component actions for the
 * entries in `entries`; the lock is released when `work` ends, whatever happened.
 */
export async function withRestartGate<T>(
  deps: RestartDeps,
  journal: Journal | undefined,
  actions: ComponentAction[],
  work: (step: StepDeps) => Promise<T>,
): Promise<T> {
  const gate = new RestartGate({
    paths: deps.paths, config: deps.config, log: deps.log, notify: deps.notify,
    command: `kube-cert-renewer ${journal?.command ?? 'run'}`, ...(journal ? { runId: journal.id } : {}),
  });
  try {
    return await work({ ...deps, gate, actions: new Map(actions.map((a) => [a.component, a])) });
  } finally {
    await gate.release();
  }
}

/** The actions for `journal`'s renewed entries; restarts owed by interrupted runs are restarts. */
export function actionsFor(deps: RestartDeps, journal: Journal | undefined, components: Component[], owed: Journal[] = []): ComponentAction[] {
  const owedRestarts = new Set(owed.flatMap((j) => j.restarts));
  return componentActions(journal?.entries.map((e) => e.name) ?? [], components, deps.config, deps.paths)
    .map((a) => (owedRestarts.has(a.component) ? { ...a, action: 'restart' as const, why: 'restarts owed by an interrupted run' } : a));
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
  const actions = actionsFor(deps, journal, wanted, owed);
  const result = await withRestartGate(deps, journal, actions, (step) => stepAll(step, journal, wanted, actions));
  return { ...result, actions: journal?.actions ?? actions.map(({ component, action, why }) => ({ component, action, why })) };
}

async function stepAll(deps: StepDeps, journal: Journal | undefined, wanted: Component[], actions: ComponentAction[]): Promise<SequenceResult> {
  const restarted: Component[] = [];
  const touched: Component[] = [];
  if (journal) {
    journal.phase = 'restarting';
    journal.actions = actions.map(({ component, action, why }) => ({ component, action, why }));
    writeJournal(deps.paths, journal);
  }
  const result = await stepInOrder(wanted, deps, (o: StepOutcome) => {
    if (o.ok || o.bounced) touched.push(o.component);
    if ((o.ok && o.done === 'restarted') || (!o.ok && o.bounced)) restarted.push(o.component);
    if (!journal) return;
    journal.restarted = [...restarted];
    const a = journal.actions?.find((x) => x.component === o.component);
    if (a && o.ok && (o.done === 'restarted') !== (a.action === 'restart')) {
      a.action = 'restart';
      a.why = `${a.why}; not shown within the reload budget, so restarted`;
    }
    writeJournal(deps.paths, journal);
  });
  if (result.ok) {
    // Without restart.verify the components were bounced, not verified: the journal must not claim otherwise.
    if (journal && deps.config.restart.verify) {
      journal.phase = 'verified';
      journal.verified = [...touched];
      writeJournal(deps.paths, journal);
    }
    return { ok: true, rolledBack: false, restarted };
  }
  return rollBackAfterFailure(deps, journal, result, touched, restarted);
}

/**
 * A component failed its restart (or was refused one by the gate): roll the run back while the previous certificates
 * are still valid (restore the files; what reloaded or restarted takes the restored files up the same way, the
 * cluster lock still held), or keep the new ones and say so loudly when they are not.
 */
async function rollBackAfterFailure(
  deps: StepDeps,
  journal: Journal | undefined,
  result: Extract<SequenceOutcome, { ok: false }>,
  touched: Component[],
  restarted: Component[],
): Promise<SequenceResult> {
  // A bounce that never happened failed at once (a manifest that cannot be read, parsed or written): say what failed.
  // Paths in the reason are host paths, as the node sees them.
  const reason = hostText(deps.paths.root, result.reason);
  const what = result.refused
    ? `${result.component} was not restarted: ${reason}`
    : result.bounced
      ? `${result.component} did not come back with the new certificates within ${Math.round(deps.config.restart.verifyTimeout / 1000)}s: ${reason}`
      : `${result.component} could not be restarted: ${reason}`;
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
  await deps.notify(`rolling back: ${result.component} ${result.refused ? 'was not restarted' : 'failed verification'}`);
  restoreRun(deps.paths, journal);
  // A refused component was never touched; one that failed after its bounce must take up the restored files too.
  const again = inRestartOrder(result.refused || !result.bounced ? touched : [...touched, result.component]);
  const back = await stepInOrder(again, deps, () => undefined);
  if (back.ok) {
    deps.log.error({ runId: journal.id, restored: journal.entries.map((e) => e.name) }, `rolled back run ${journal.id}: the previous certificates are in place and served again`);
  } else {
    deps.log.fatal({ runId: journal.id, component: back.component }, `rolled back run ${journal.id}, but ${back.component} did not come back with the restored certificates either: ${back.reason}`);
  }
  journal.phase = 'rolled-back';
  writeJournal(deps.paths, journal);
  return { ok: false, rolledBack: true, restarted };
}

/**
 * After `rollback` restored a run's files: the components that run reloaded or restarted take the restored files up
 * the same way (a reload proved, a restart through the restart gate), in order.
 */
export async function serveRestored(deps: RestartDeps, journal: Journal, components: Component[]): Promise<SequenceOutcome> {
  const actions = actionsFor(deps, journal, components);
  return withRestartGate(deps, journal, actions, (step) => stepInOrder(components, step, () => undefined));
}
