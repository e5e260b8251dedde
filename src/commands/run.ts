/**
 * `run` (the timer's job) and `renew NAME...|--all`: under the lock, read → decide → apply → report. Finishing
 * interrupted runs, renewing, restarting, verifying and rolling back are the apply stage's (src/apply/run.ts); this
 * command composes the stages, runs the hooks, and records and prints the outcome. Exit 0 when all went well.
 */
import type { Context } from '../cli/context.js';
import { LEAVES } from '../catalog.js';
import { RenewerError, RunFailedError } from '../errors.js';
import { hostText } from '../host/paths.js';
import { assertControlPlane } from '../inventory/control-plane.js';
import { readInventory } from '../inventory/read.js';
import { isAdvisory } from '../inventory/records.js';
import { runPostRenewHooks } from '../ops/hooks.js';
import { type Notifier, createNotifier } from '../ops/notify.js';
import type { ApplyDeps } from '../apply/deps.js';
import { waitForKubeadm } from '../apply/kubeadm-guard.js';
import { acquireLock } from '../apply/lock.js';
import { recoverInterruptedRuns } from '../apply/recover.js';
import { type RunOutcome, applyRun } from '../apply/run.js';
import { reportSkipped } from '../apply/skipped.js';
import { type State, clearPendingRestarts, readState, writeState } from '../apply/state.js';
import { recordRun } from '../apply/summary.js';
import { newRunId } from '../apply/transaction.js';
import { decideAll } from '../plan/decide.js';
import { buildPlan } from '../plan/plan.js';
import { refreshMetrics } from './metrics.js';
import { caExpiryNotices } from '../report/ca-expiry.js';
import { reportFromHost } from './status.js';
import { restartedSinceRenewal } from '../restart/pending.js';

export interface RunOptions {
  command: 'run' | 'renew';
  /** Entries named on the command line (`renew NAME...`): only these are renewed, whatever the policy. */
  named: ReadonlySet<string>;
  /** `renew --all`: every entry this node can renew, whatever the policy; the others are skipped quietly. */
  all?: boolean;
}

export function applyDeps(ctx: Context, notify: Notifier): ApplyDeps {
  return { paths: ctx.paths, config: ctx.config, log: ctx.log, notify, now: ctx.now };
}

/**
 * kubeadm is running (an upgrade renews certificates and rewrites manifests itself): wait for it, or defer. A deferred
 * timer run is not a failure (exit 0, nothing written); a deferred `renew` did not do what was asked (exit 1).
 */
async function deferredForKubeadm(ctx: Context, opts: RunOptions, deps: ApplyDeps): Promise<boolean> {
  const kubeadm = await waitForKubeadm(deps);
  if (!kubeadm) return false;
  const text = `kubeadm is still running (pid ${kubeadm.pid}): ${opts.command === 'run' ? 'deferring to the next timer run' : 'not renewing'}; nothing was changed`;
  ctx.log.warn({ pid: kubeadm.pid, command: kubeadm.command }, text);
  await deps.notify(text);
  return true;
}

/** read → decide → apply, under the lock. */
async function renewAndRestart(ctx: Context, opts: RunOptions, deps: ApplyDeps, state: State, runId: string): Promise<RunOutcome> {
  const owed = recoverInterruptedRuns(deps, state, runId);
  // Restarts owed by an earlier renewal with restarts off that happened some other way (by hand, a reboot).
  clearPendingRestarts(state, restartedSinceRenewal(state.pendingRestarts ?? [], ctx.paths));
  const inventory = readInventory(ctx.paths);
  const forced = opts.all ? new Set(LEAVES.map((l) => l.name)) : opts.named;
  const scope = opts.command === 'renew' && !opts.all ? opts.named : undefined;
  const plan = buildPlan(inventory, decideAll(inventory, ctx.config, state, ctx.now(), forced), scope);
  // A CA near or past its expiry is told once, with its date and what to do, not once per certificate it signs.
  for (const n of caExpiryNotices(inventory, ctx.config.renewBefore, ctx.now(), ctx.root)) {
    const fields = { ca: n.ca, file: n.file, notAfter: n.notAfter, hint: n.hint };
    if (n.expired || plan.skipped.some((s) => s.blocker === 'ca-expiring' && n.leaves.includes(s.name))) ctx.log.error(fields, n.message);
    else ctx.log.warn(fields, n.message);
  }
  const failed = reportSkipped(plan.skipped, inventory, opts.named, deps);
  if (plan.items.length === 0 && owed.length === 0) {
    const managed = inventory.leaves.filter((l) => l.state === 'present' && !l.rotatedByKubelet).length;
    ctx.log.info({ checked: managed }, 'nothing to renew');
    return { runId, renewed: [], failed, restarted: [], result: 'success' };
  }
  const outcome = await applyRun(plan, inventory, state, deps, { command: opts.command, runId, owed });
  return { ...outcome, failed: [...failed, ...outcome.failed] };
}

export async function renewalRun(ctx: Context, opts: RunOptions): Promise<number> {
  const notify = createNotifier();
  const startedAt = ctx.now();
  // Before the lock and the state file: a tree with no control plane gets one message and nothing written.
  assertControlPlane(readInventory(ctx.paths), ctx.paths);
  if (ctx.config.mode === 'monitor') {
    if (opts.command === 'renew') {
      throw new RunFailedError(`mode is monitor in ${ctx.configFile}: nothing is written`, 'set mode: renew to let kube-cert-renewer renew certificates');
    }
    return monitorRun(ctx, notify);
  }
  const lock = await acquireLock(ctx.paths.lockFile, opts.command, undefined, (m) => ctx.log.warn(m), (who) => {
    ctx.log.info({ lockFile: ctx.paths.lockFile }, `waiting for the lock: another kube-cert-renewer run holds it (${who})`);
    void notify(`waiting for the lock held by ${who}`);
  });
  const runId = newRunId(startedAt);
  try {
    if (await deferredForKubeadm(ctx, opts, applyDeps(ctx, notify))) return opts.command === 'run' ? 0 : 1;
    const read = readState(ctx.paths.stateFile);
    if (read.warning) ctx.log.warn(hostText(ctx.root, read.warning));
    const state = read.state;
    let outcome: RunOutcome;
    try {
      outcome = await renewAndRestart(ctx, opts, applyDeps(ctx, notify), state, runId);
    } catch (err) {
      const text = err instanceof RenewerError ? err.describe().replace(/\n\s*/g, ' ') : (err as Error).message;
      ctx.log.error(`run failed: ${text}`);
      outcome = { runId, renewed: [], failed: ['run'], restarted: [], result: 'failure' };
    }
    let hooksFailed = 0;
    if (outcome.renewed.length > 0 && outcome.result === 'success' && ctx.config.hooks.postRenew.length > 0) {
      await notify('running post-renew hooks');
      hooksFailed = await runPostRenewHooks(ctx.config.hooks.postRenew, {
        runId: outcome.runId ?? '', renewed: outcome.renewed, restarted: outcome.restarted, root: ctx.root,
      }, ctx.config.hooks.timeout, ctx.log);
    }
    const { ok, summary, failed } = recordRun(state, { command: opts.command, startedAt, finishedAt: ctx.now(), outcome, hooksFailed });
    writeState(ctx.paths.stateFile, state);
    refreshMetrics(ctx, state);
    if (ok) ctx.log.info({ renewed: outcome.renewed, restarted: outcome.restarted }, summary);
    else ctx.log.error({ renewed: outcome.renewed, restarted: outcome.restarted, failed }, summary);
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
  for (const p of report.problems) {
    const log = isAdvisory(p) ? ctx.log.warn.bind(ctx.log) : ctx.log.error.bind(ctx.log); // advisory: reported, never a failure
    log({ entry: p.entry, file: p.file, hint: p.hint }, `${p.entry}: ${p.file}: ${p.message}`);
  }
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
