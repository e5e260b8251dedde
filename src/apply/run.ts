/**
 * The apply stage of `run` and `renew`: given the plan (decided from the inventory), prepare every renewal in memory,
 * stage and commit it as one journaled transaction, record it in the state, restart and verify exactly the affected
 * components, and roll back when they do not come up with the new certificates. Restarts owed by interrupted runs are
 * made in the same pass. The caller holds the run lock and writes the run's summary.
 */
import { hostPathOf } from '../host/paths.js';
import type { Inventory } from '../inventory/records.js';
import type { RenewalPlan } from '../plan/plan.js';
import { restartComponents } from '../restart/sequence.js';
import type { ApplyDeps } from './deps.js';
import { faultPoint } from '../host/faults.js';
import { type PreparedRenewal, prepareRenewals } from './prepare.js';
import { type OwedRun, recordRenewals } from './recover.js';
import { type RunSummary, type State, addPendingRestarts, clearPendingRestarts, writeState } from './state.js';
import { type Journal, closeRun, commitRun, listRuns, pruneRuns, stageRun } from './transaction.js';
import { undoRenewals } from './undo.js';

export interface ApplyOptions {
  command: 'run' | 'renew';
  /** This run's id (newRunId), also the name of its backups directory when it writes anything. */
  runId: string;
  /** Runs an earlier, interrupted run left unfinished (from recoverInterruptedRuns), with the restarts they owe. */
  owed: OwedRun[];
}

export interface RunOutcome {
  runId?: string;
  renewed: string[];
  failed: string[];
  restarted: string[];
  result: RunSummary['result'];
  /** Per component: reloaded by itself or restarted, and why. */
  actions?: RunSummary['actions'];
}

/** The state file, written; a crash test may stop the process right after. */
export function saveState(deps: ApplyDeps, state: State): void {
  writeState(deps.paths.stateFile, state);
  faultPoint('state');
}

function logRenewed(deps: ApplyDeps, prepared: PreparedRenewal[], runId: string): void {
  for (const p of prepared) {
    deps.log.info({
      entry: p.item.name, reasons: p.item.reasons, oldSerial: p.item.oldSerial, newSerial: p.newSerial,
      oldNotAfter: p.item.oldNotAfter.toISOString(), newNotAfter: p.newNotAfter.toISOString(),
      files: p.writes.map((w) => hostPathOf(deps.paths.root, w.path)), runId,
    }, `renewed ${p.item.name}`);
    if (p.item.cappedByCa) deps.log.warn({ entry: p.item.name }, `${p.item.name}: validity capped at its CA's expiry; plan a CA rotation`);
  }
}

/** Prepare, stage and commit every renewal of the plan; the journal of the committed run, if anything was renewed. */
async function renewAll(plan: RenewalPlan, inventory: Inventory, state: State, deps: ApplyDeps, opts: ApplyOptions, outcome: RunOutcome): Promise<Journal | undefined> {
  const now = deps.now();
  const { prepared, failed } = await prepareRenewals(inventory, plan.items, now);
  for (const f of failed) {
    outcome.failed.push(f.item.name);
    deps.log.error({ entry: f.item.name }, `${f.item.name}: renewal failed: ${f.error}`);
  }
  if (prepared.length === 0) return undefined;
  const restarts = deps.config.restart.enabled ? [...new Set(prepared.flatMap((p) => p.item.restarts))] : [];
  const journal = stageRun(deps.paths, opts.runId, opts.command, now, prepared, restarts, state.entries);
  commitRun(deps.paths, journal);
  recordRenewals(state, journal, now.toISOString());
  if (!deps.config.restart.enabled) {
    // Nothing restarts: `status` names what still runs the old certificates until a run restarts it.
    for (const p of prepared) addPendingRestarts(state, p.item.restarts, [p.item.name], journal.id, now.toISOString());
  }
  saveState(deps, state);
  outcome.renewed.push(...prepared.map((p) => p.item.name));
  logRenewed(deps, prepared, journal.id);
  return journal;
}

/** Mark the run and every interrupted run it finished as finished, then prune old backups. */
function finish(deps: ApplyDeps, journal: Journal | undefined, owed: OwedRun[]): void {
  for (const { journal: j } of owed) {
    if (j.phase !== 'rolled-back' && j.phase !== 'failed') closeRun(deps.paths, j, 'done');
  }
  if (journal && journal.phase !== 'rolled-back' && journal.phase !== 'failed') closeRun(deps.paths, journal, 'done');
  const pruned = pruneRuns(deps.paths, deps.config.backups.keep);
  if (pruned.length) deps.log.debug({ pruned }, 'removed old backups');
}

/** Stage, commit, restart, verify, then roll back or finish. `state` is updated (and written) as the run goes. */
export async function applyRun(plan: RenewalPlan, inventory: Inventory, state: State, deps: ApplyDeps, opts: ApplyOptions): Promise<RunOutcome> {
  const outcome: RunOutcome = { runId: opts.runId, renewed: [], failed: [], restarted: [], result: 'success' };
  let journal: Journal | undefined;
  if (plan.items.length > 0) {
    const managed = inventory.leaves.filter((l) => l.state === 'present' && !l.rotatedByKubelet).length;
    await deps.notify(`renewing ${plan.items.length} of ${managed}`);
    deps.log.info({ entries: plan.items.map((i) => i.name) }, `renewing ${plan.items.length} of ${managed} certificates`);
    journal = await renewAll(plan, inventory, state, deps, opts, outcome);
  }
  // The sequence restarts what each interrupted run still owes, not what it already restarted before it died.
  const owedViews = opts.owed.map((o) => ({ ...o.journal, restarts: o.restarts }));
  const result = await restartComponents(deps, journal, owedViews);
  outcome.restarted = result.restarted;
  if (result.actions?.length) outcome.actions = result.actions;
  clearPendingRestarts(state, result.restarted);
  if (!result.ok) {
    outcome.result = result.rolledBack ? 'rolled-back' : 'failure';
    if (result.rolledBack && journal) {
      undoRenewals(state, journal, listRuns(deps.paths));
      saveState(deps, state);
      outcome.failed.push(...journal.entries.map((e) => e.name));
      outcome.renewed = [];
    }
  }
  finish(deps, journal, opts.owed);
  return outcome;
}
