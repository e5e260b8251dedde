/**
 * `run` (the timer's job) and `renew NAME...|--all`: under the lock, finish any interrupted run, renew what is due
 * (or named), restart and verify exactly the affected components, roll back if they do not come up with the new
 * certificates, then run hooks, record state and write metrics. Exit 0 when all went well, 1 otherwise.
 */
import type { Context } from '../cli/context.js';
import { LEAVES } from '../catalog.js';
import { RenewerError, RunFailedError } from '../errors.js';
import { hostPathOf, hostText } from '../host/paths.js';
import { assertControlPlane } from '../inventory/control-plane.js';
import { readInventory } from '../inventory/read.js';
import { runPostRenewHooks } from '../ops/hooks.js';
import { type Notifier, createNotifier } from '../ops/notify.js';
import { decideAll } from '../plan/decide.js';
import { caExpiryNotices } from '../report/ca-expiry.js';
import { reportFromHost } from './status.js';
import { acquireLock } from '../apply/lock.js';
import { refreshMetrics } from './metrics.js';
import { buildPlan } from '../plan/plan.js';
import { prepareRenewals } from '../apply/prepare.js';
import {
  type EntryRenewal, type RunSummary, type State, addPendingRestarts, clearPendingRestarts, readState, writeState,
} from '../apply/state.js';
import {
  type Journal, commitRun, interruptedRuns, listRuns, newRunId, pruneRuns, restoreRun, stageRun, writeJournal,
} from '../apply/transaction.js';
import { restartComponents } from '../restart/sequence.js';

export interface RunOptions {
  command: 'run' | 'renew';
  /** Entries to renew whatever the policy (`renew`). */
  forced: ReadonlySet<string>;
  /** `renew --all`: entries this node cannot renew are skipped quietly rather than reported as refused. */
  all?: boolean;
}

interface Outcome {
  runId?: string;
  renewed: string[];
  failed: string[];
  restarted: string[];
  result: RunSummary['result'];
}

/** Roll forward runs that died between staging and committing, and return every run whose restarts are owed. */
function recover(ctx: Context): Journal[] {
  const owed: Journal[] = [];
  for (const journal of interruptedRuns(ctx.paths)) {
    ctx.log.warn({ runId: journal.id, entries: journal.entries.map((e) => e.name) },
      'finishing a run that was interrupted before all its files were written');
    commitRun(ctx.paths, journal);
    owed.push(journal);
  }
  for (const journal of listRuns(ctx.paths)) {
    if ((journal.phase === 'committed' || journal.phase === 'restarting') && !owed.includes(journal)) {
      ctx.log.warn({ runId: journal.id, restarts: journal.restarts }, 'finishing the restarts of an interrupted run');
      owed.push(journal);
    }
  }
  return owed;
}

function recordRenewals(state: State, journal: Journal, now: Date): void {
  for (const e of journal.entries) {
    const r: EntryRenewal = {
      renewedAt: now.toISOString(), runId: journal.id, oldSerial: e.oldSerial, newSerial: e.newSerial,
      oldNotAfter: e.oldNotAfter, newNotAfter: e.newNotAfter,
    };
    state.entries[e.name] = r;
    state.renewalsTotal[e.name] = (state.renewalsTotal[e.name] ?? 0) + 1;
  }
}

async function renewAndRestart(ctx: Context, opts: RunOptions, notify: Notifier, state: State): Promise<Outcome> {
  const log = ctx.log;
  const owed = recover(ctx);
  const now = ctx.now();
  const inventory = readInventory(ctx.paths);
  const plan = buildPlan(inventory, decideAll(inventory, ctx.config, state, now, opts.forced));
  const outcome: Outcome = { renewed: [], failed: [], restarted: [], result: 'success' };

  // A CA near or past its expiry is told once, with its date and what to do, not once per certificate it signs.
  for (const n of caExpiryNotices(inventory, ctx.config.renewBefore, now, ctx.root)) {
    const fields = { ca: n.ca, file: n.file, notAfter: n.notAfter, hint: n.hint };
    if (n.expired || plan.skipped.some((s) => s.blocker === 'ca-expiring' && n.leaves.includes(s.name))) log.error(fields, n.message);
    else log.warn(fields, n.message);
  }
  for (const s of plan.skipped) {
    if (s.blocker === 'ca-expiring' || s.blocker === 'ca-expired') {
      outcome.failed.push(s.name);
      log.debug({ entry: s.name, blocker: s.blocker }, `${s.name}: not renewed: ${s.why}`);
    } else if (s.failure) {
      outcome.failed.push(s.name);
      const leaf = inventory.leaves.find((l) => l.entry.name === s.name);
      for (const p of leaf?.problems ?? []) {
        const file = hostPathOf(ctx.root, p.file);
        log.error({ entry: s.name, file, hint: p.hint }, `${s.name}: ${file}: ${hostText(ctx.root, p.message)}`);
      }
      if (!leaf?.problems.length) log.error({ entry: s.name }, `${s.name}: not renewed: ${s.why}`);
    } else if (opts.forced.has(s.name) && !opts.all) {
      // Named on the command line and refused: the request was not carried out.
      outcome.failed.push(s.name);
      log.error({ entry: s.name, blocker: s.blocker }, `${s.name}: not renewed: ${s.why}`);
    } else if (s.due) {
      log.warn({ entry: s.name, blocker: s.blocker }, `${s.name}: due but not renewed here: ${s.why}`);
    }
  }

  const managed = inventory.leaves.filter((l) => l.state === 'present' && !l.rotatedByKubelet).length;
  if (plan.items.length === 0 && owed.length === 0) {
    log.info({ checked: managed }, 'nothing to renew');
    return outcome;
  }

  let journal: Journal | undefined;
  let previous: State['entries'] = {};
  if (plan.items.length > 0) {
    await notify(`renewing ${plan.items.length} of ${managed}`);
    log.info({ entries: plan.items.map((i) => i.name) }, `renewing ${plan.items.length} of ${managed} certificates`);
    const { prepared, failed } = await prepareRenewals(inventory, plan.items, now);
    for (const f of failed) {
      outcome.failed.push(f.item.name);
      log.error({ entry: f.item.name }, `${f.item.name}: renewal failed: ${f.error}`);
    }
    if (prepared.length > 0) {
      const restarts = ctx.config.restart.enabled ? [...new Set(prepared.flatMap((p) => p.item.restarts))] : [];
      journal = stageRun(ctx.paths, newRunId(now), opts.command, now, prepared, restarts);
      outcome.runId = journal.id;
      commitRun(ctx.paths, journal);
      previous = structuredClone(state.entries);
      recordRenewals(state, journal, now);
      if (!ctx.config.restart.enabled) {
        for (const p of prepared) addPendingRestarts(state, p.item.restarts, [p.item.name], journal.id, now.toISOString());
      }
      writeState(ctx.paths.stateFile, state);
      for (const p of prepared) {
        outcome.renewed.push(p.item.name);
        log.info({
          entry: p.item.name, reasons: p.item.reasons, oldSerial: p.item.oldSerial, newSerial: p.newSerial,
          oldNotAfter: p.item.oldNotAfter.toISOString(), newNotAfter: p.newNotAfter.toISOString(),
          files: p.writes.map((w) => hostPathOf(ctx.root, w.path)), runId: journal.id,
        }, `renewed ${p.item.name}`);
        if (p.item.cappedByCa) log.warn({ entry: p.item.name }, `${p.item.name}: validity capped at its CA's expiry; plan a CA rotation`);
      }
    }
  }

  const result = await restartComponents(ctx, notify, journal, owed);
  outcome.restarted = result.restarted;
  clearPendingRestarts(state, result.restarted);
  if (!result.ok) {
    outcome.result = result.rolledBack ? 'rolled-back' : 'failure';
    if (result.rolledBack && journal) {
      // The restored certificates are the ones the state remembered before this run.
      for (const e of journal.entries) {
        const before = previous[e.name];
        if (before) state.entries[e.name] = before;
        else delete state.entries[e.name];
        state.renewalsTotal[e.name] = Math.max(0, (state.renewalsTotal[e.name] ?? 1) - 1);
      }
      outcome.failed.push(...journal.entries.map((e) => e.name));
      outcome.renewed = [];
    }
  }
  for (const j of owed) {
    j.phase = 'done';
    writeJournal(ctx.paths, j);
  }
  if (journal && journal.phase !== 'rolled-back' && journal.phase !== 'failed') {
    journal.phase = 'done';
    writeJournal(ctx.paths, journal);
  }
  const pruned = pruneRuns(ctx.paths, ctx.config.backups.keep);
  if (pruned.length) log.debug({ pruned }, 'removed old backups');
  return outcome;
}

export async function renewalRun(ctx: Context, opts: RunOptions): Promise<number> {
  const notify = createNotifier();
  const startedAt = ctx.now();
  const log = ctx.log;
  // Before the lock and the state file: a tree with no control plane gets one message and nothing written.
  assertControlPlane(readInventory(ctx.paths), ctx.paths);
  if (ctx.config.mode === 'monitor') {
    if (opts.command === 'renew') {
      throw new RunFailedError(`mode is monitor in ${ctx.configFile}: nothing is written`, 'set mode: renew to let kube-cert-renewer renew certificates');
    }
    return monitorRun(ctx, notify);
  }
  await notify('waiting for the lock');
  const lock = await acquireLock(ctx.paths.lockFile, opts.command);
  let outcome: Outcome;
  let state: State;
  try {
    const read = readState(ctx.paths.stateFile);
    if (read.warning) log.warn(read.warning);
    state = read.state;
    try {
      outcome = await renewAndRestart(ctx, opts, notify, state);
    } catch (err) {
      const text = err instanceof RenewerError ? err.describe().replace(/\n\s*/g, ' ') : (err as Error).message;
      log.error(`run failed: ${text}`);
      outcome = { renewed: [], failed: ['run'], restarted: [], result: 'failure' };
    }
    let hooksFailed = 0;
    if (outcome.renewed.length > 0 && outcome.result === 'success' && ctx.config.hooks.postRenew.length > 0) {
      await notify('running post-renew hooks');
      hooksFailed = await runPostRenewHooks(ctx.config.hooks.postRenew, {
        runId: outcome.runId ?? '', renewed: outcome.renewed, restarted: outcome.restarted, root: ctx.root,
      }, ctx.config.hooks.timeout, log);
    }
    const ok = outcome.result === 'success' && outcome.failed.length === 0 && hooksFailed === 0;
    const finishedAt = ctx.now();
    state.lastRun = {
      id: outcome.runId ?? `${opts.command}-${startedAt.toISOString()}`,
      command: opts.command, startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(),
      result: ok ? 'success' : outcome.result === 'success' ? 'failure' : outcome.result,
      renewed: outcome.renewed, failed: hooksFailed ? [...outcome.failed, 'hooks'] : outcome.failed, restarted: outcome.restarted,
    };
    state.runsTotal += 1;
    if (ok) state.lastSuccessAt = finishedAt.toISOString();
    else state.failuresTotal += 1;
    writeState(ctx.paths.stateFile, state);
    refreshMetrics(ctx, state);
    const failed = hooksFailed ? [...outcome.failed, 'hooks'] : outcome.failed;
    const summary = `${ok ? 'run succeeded' : 'run failed'}: renewed ${outcome.renewed.length}, restarted ${outcome.restarted.length}, failed ${failed.length}`;
    if (ok) log.info({ renewed: outcome.renewed, restarted: outcome.restarted }, summary);
    else log.error({ renewed: outcome.renewed, restarted: outcome.restarted, failed }, summary);
    await notify(summary);
    return ok ? 0 : 1;
  } finally {
    lock.release();
  }
}

/** mode: monitor — report what is due, write nothing but the metrics textfile (when configured). */
async function monitorRun(ctx: Context, notify: Notifier): Promise<number> {
  const startedAt = ctx.now().toISOString();
  const { state } = readState(ctx.paths.stateFile);
  const report = reportFromHost(ctx, state);
  for (const c of report.certificates) {
    if (c.renewable) ctx.log.warn({ entry: c.name, notAfter: c.notAfter }, `${c.name}: renewal due (${c.why}); mode is monitor, not renewing`);
  }
  for (const p of report.problems) ctx.log.error({ entry: p.entry, file: p.file, hint: p.hint }, `${p.entry}: ${p.file}: ${p.message}`);
  // The run metrics cover monitor runs too (last run, its success); monitor mode writes no state, so the counters
  // keep counting renewal runs only.
  const finishedAt = ctx.now().toISOString();
  const ok = report.summary.healthy;
  const seen: State = {
    ...state,
    lastRun: { id: `monitor-${startedAt}`, command: 'monitor', startedAt, finishedAt, result: ok ? 'success' : 'failure', renewed: [], failed: [], restarted: [] },
    ...(ok ? { lastSuccessAt: finishedAt } : {}),
  };
  refreshMetrics(ctx, seen, report);
  await notify(`monitor: ${report.summary.due} due, ${report.summary.problems} problems`);
  return report.summary.healthy ? 0 : 1;
}

export function parseRenewTargets(positionals: string[], all: boolean): Set<string> {
  if (all) return new Set(LEAVES.map((l) => l.name));
  return new Set(positionals);
}
