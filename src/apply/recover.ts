/**
 * Finish what an interrupted run left, before anything new is decided:
 * - remove the temporary files a killed process left (src/apply/temporaries.ts);
 * - roll forward a run that died between staging and committing, once its staged files check out; a run whose
 *   staged files are damaged is discarded instead (its backups put back) and its renewals are done afresh;
 * - finish a rollback that died half-way;
 * - record in the state, under the interrupted run's own id and exactly once, the renewals it left on disk;
 * - collect the restarts such runs still owe.
 */
import { rmSync } from 'node:fs';
import type { Component } from '../catalog.js';
import { hostPathOf } from '../host/paths.js';
import type { ApplyDeps } from './deps.js';
import { faultPoint } from '../host/faults.js';
import { stagedEntryProblem } from './staged-check.js';
import { type State, writeState } from './state.js';
import { removeTemporaries } from './temporaries.js';
import { type Journal, closeRun, commitRun, listRuns, orphanRunDirs, restoreRun, runDir } from './transaction.js';
import { undoRenewals } from './undo.js';

/** A run whose restarts are still owed: `restarts` are the components it changed and did not restart yet. */
export interface OwedRun {
  journal: Journal;
  restarts: Component[];
}

/** Record the renewals of `journal` in the state unless the state already holds them (the run got that far). */
export function recordRenewals(state: State, journal: Journal, renewedAt: string): boolean {
  let changed = false;
  for (const e of journal.entries) {
    if (state.entries[e.name]?.runId === journal.id) continue;
    state.entries[e.name] = {
      renewedAt, runId: journal.id, oldSerial: e.oldSerial, newSerial: e.newSerial, oldNotAfter: e.oldNotAfter, newNotAfter: e.newNotAfter,
    };
    state.renewalsTotal[e.name] = (state.renewalsTotal[e.name] ?? 0) + 1;
    changed = true;
  }
  return changed;
}

/** Roll forward, or discard when a staged file is damaged; true when rolled forward. */
function rollForward(journal: Journal, deps: ApplyDeps): boolean {
  const dir = runDir(deps.paths, journal.id);
  const problems = journal.entries.map((e) => stagedEntryProblem(deps.paths, dir, e)).filter((p): p is string => p !== undefined);
  if (problems.length === 0) {
    deps.log.warn({ runId: journal.id, entries: journal.entries.map((e) => e.name) },
      `finishing a run that was interrupted before all its files were written (run ${journal.id})`);
    commitRun(deps.paths, journal);
    return true;
  }
  deps.log.error({ runId: journal.id, problems },
    `not finishing interrupted run ${journal.id}: its staged files are damaged (${problems.join('; ')}); ` +
    'putting its backups back and renewing afresh');
  restoreRun(deps.paths, journal);
  journal.discarded = problems.join('; ');
  closeRun(deps.paths, journal, 'failed');
  return false;
}

function owedComponents(journal: Journal): Component[] {
  if (journal.phase === 'rolled-back') return journal.restarted.length ? journal.restarted : journal.restarts;
  return journal.restarts.filter((c) => !journal.restarted.includes(c));
}

/** Finish one interrupted journal; the restarts it owes, or undefined when it needs nothing more. */
function finishOne(journal: Journal, deps: ApplyDeps, state: State, runs: Journal[]): OwedRun | undefined {
  if (journal.phase === 'prepared' && !rollForward(journal, deps)) return undefined;
  if (journal.phase === 'rolling-back') {
    deps.log.warn({ runId: journal.id }, `finishing the rollback of run ${journal.id}, which was interrupted`);
    restoreRun(deps.paths, journal);
    undoRenewals(state, journal, runs);
    closeRun(deps.paths, journal, 'rolled-back');
  } else if (recordRenewals(state, journal, journal.startedAt)) {
    deps.log.info({ runId: journal.id, entries: journal.entries.map((e) => e.name) }, `recorded the renewals of interrupted run ${journal.id}`);
  }
  writeState(deps.paths.stateFile, state);
  faultPoint('state');
  const restarts = owedComponents(journal);
  if (restarts.length) deps.log.warn({ runId: journal.id, restarts }, `making the restarts interrupted run ${journal.id} owes`);
  return { journal, restarts };
}

const UNFINISHED = new Set(['prepared', 'committed', 'restarting', 'verified', 'rolling-back']);

/**
 * Finish every interrupted run (oldest first) as run `runId`, updating and writing `state`; returns the runs whose
 * restarts are owed (possibly none each), to be restarted and closed by this run.
 */
export function recoverInterruptedRuns(deps: ApplyDeps, state: State, runId: string): OwedRun[] {
  for (const file of removeTemporaries(deps.paths)) {
    deps.log.warn({ file: hostPathOf(deps.paths.root, file) }, `removed ${hostPathOf(deps.paths.root, file)}, left by an interrupted run`);
  }
  for (const dir of orphanRunDirs(deps.paths)) {
    rmSync(dir, { recursive: true, force: true });
    deps.log.warn({ dir: hostPathOf(deps.paths.root, dir) }, `removed ${hostPathOf(deps.paths.root, dir)}: a run killed while staging, before it changed anything`);
  }
  const runs = listRuns(deps.paths);
  // A run rolled back (by itself or by `rollback`) whose undo never reached the state: undo it now.
  for (const j of runs.filter((r) => r.phase === 'rolled-back' && r.entries.some((e) => state.entries[e.name]?.runId === r.id))) {
    undoRenewals(state, j, runs);
    writeState(deps.paths.stateFile, state);
  }
  const owed: OwedRun[] = [];
  for (const journal of runs.filter((j) => UNFINISHED.has(j.phase))) {
    journal.completedBy = runId;
    const o = finishOne(journal, deps, state, runs);
    if (o) owed.push(o);
  }
  return owed;
}
