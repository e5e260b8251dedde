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
import { type PreparedRenewal, prepareRenewals } from './prepare.js';
import { type RunSummary, type State, addPendingRestarts, clearPendingRestarts, writeState } from './state.js';
import { type Journal, commitRun, listRuns, newRunId, pruneRuns, stageRun, writeJournal } from './transaction.js';
import { undoRenewals } from './undo.js';

export interface ApplyOptions {
  command: 'run' | 'renew';
  /** Runs an earlier, interrupted run left with restarts owed (from recoverInterruptedRuns). */
  owed: Journal[];
}

export interface RunOutcome {
  runId?: string;
  renewed: string[];
  failed: string[];
  restarted: string[];
  result: RunSummary['result'];
}

function recordRenewals(state: State, journal: Journal, now: Date): void {
  for (const e of journal.entries) {
    state.entries[e.name] = {
      renewedAt: now.toISOString(), runId: journal.id, oldSerial: e.oldSerial, newSerial: e.newSerial,
      oldNotAfter: e.oldNotAfter, newNotAfter: e.newNotAfter,
    };
    state.renewalsTotal[e.name] = (state.renewalsTotal[e.name] ?? 0) + 1;
  }
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
  const journal = stageRun(deps.paths, newRunId(now), opts.command, now, prepared, restarts, state.entries);
  outcome.runId = journal.id;
  commitRun(deps.paths, journal);
  recordRenewals(state, journal, now);
  if (!deps.config.restart.enabled) {
    // Nothing restarts: `status` names what still runs the old certificates until a run restarts it.
    for (const p of prepared) addPendingRestarts(state, p.item.restarts, [p.item.name], journal.id, now.toISOString());
  }
  writeState(deps.paths.stateFile, state);
  outcome.renewed.push(...prepared.map((p) => p.item.name));
  logRenewed(deps, prepared, journal.id);
  return journal;
}

/** Mark the run and every run whose restarts it made as finished, then prune old backups. */
function finish(deps: ApplyDeps, journal: Journal | undefined, owed: Journal[]): void {
  for (const j of owed) {
    j.phase = 'done';
    writeJournal(deps.paths, j);
  }
  if (journal && journal.phase !== 'rolled-back' && journal.phase !== 'failed') {
    journal.phase = 'done';
    writeJournal(deps.paths, journal);
  }
  const pruned = pruneRuns(deps.paths, deps.config.backups.keep);
  if (pruned.length) deps.log.debug({ pruned }, 'removed old backups');
}

/** Stage, commit, restart, verify, then roll back or finish. `state` is updated (and written) as the run goes. */
export async function applyRun(plan: RenewalPlan, inventory: Inventory, state: State, deps: ApplyDeps, opts: ApplyOptions): Promise<RunOutcome> {
  const outcome: RunOutcome = { renewed: [], failed: [], restarted: [], result: 'success' };
  let journal: Journal | undefined;
  if (plan.items.length > 0) {
    const managed = inventory.leaves.filter((l) => l.state === 'present' && !l.rotatedByKubelet).length;
    await deps.notify(`renewing ${plan.items.length} of ${managed}`);
    deps.log.info({ entries: plan.items.map((i) => i.name) }, `renewing ${plan.items.length} of ${managed} certificates`);
    journal = await renewAll(plan, inventory, state, deps, opts, outcome);
  }
  const result = await restartComponents(deps, journal, opts.owed);
  outcome.restarted = result.restarted;
  clearPendingRestarts(state, result.restarted);
  if (!result.ok) {
    outcome.result = result.rolledBack ? 'rolled-back' : 'failure';
    if (result.rolledBack && journal) {
      undoRenewals(state, journal, listRuns(deps.paths));
      writeState(deps.paths.stateFile, state);
      outcome.failed.push(...journal.entries.map((e) => e.name));
      outcome.renewed = [];
    }
  }
  finish(deps, journal, opts.owed);
  return outcome;
}
