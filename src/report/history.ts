/**
 * The run history (`history`): every run the backups directory still holds (each run that wrote files keeps its
 * journal there, up to backups.keep), plus the state's last run when it wrote nothing. A plain versioned object,
 * rendered as a table or JSON (schemas/history.schema.json).
 */
import type { RunSummary, State } from '../apply/state.js';
import type { Journal } from '../apply/transaction.js';
import { renderTable } from './table.js';

export const HISTORY_API_VERSION = 'kube-cert-renewer.io/v1alpha1';
export const HISTORY_KIND = 'RunHistory';

export type RunOutcomeText = 'success' | 'failure' | 'rolled-back' | 'interrupted' | 'unfinished' | 'discarded';

export interface HistoryRun {
  id: string;
  command: string;
  startedAt: string;
  finishedAt?: string;
  renewed: string[];
  restarted: string[];
  outcome: RunOutcomeText;
  /** The run that finished this one after it was interrupted. */
  completedBy?: string;
  rolledBack: boolean;
  /** When `rollback` restored this run's files (an automatic rollback has outcome rolled-back instead). */
  rolledBackAt?: string;
  /** What went wrong, when the run says. */
  error?: string;
}

export interface HistoryReport {
  apiVersion: string;
  kind: typeof HISTORY_KIND;
  runs: HistoryRun[];
}

const UNFINISHED = new Set(['prepared', 'committed', 'restarting', 'verified', 'rolling-back']);

function journalOutcome(j: Journal, summary: RunSummary | undefined): RunOutcomeText {
  if (j.discarded !== undefined) return 'discarded';
  if (UNFINISHED.has(j.phase)) return 'unfinished';
  if (j.completedBy) return 'interrupted';
  if (j.phase === 'rolled-back' && j.rolledBackAt === undefined) return 'rolled-back';
  if (summary) return summary.result;
  return j.phase === 'failed' || j.error ? 'failure' : 'success';
}

function fromJournal(j: Journal, state: State): HistoryRun {
  const summary = state.lastRun?.id === j.id ? state.lastRun : undefined;
  const run: HistoryRun = {
    id: j.id, command: j.command, startedAt: j.startedAt, renewed: j.entries.map((e) => e.name), restarted: j.restarted,
    outcome: journalOutcome(j, summary), rolledBack: j.phase === 'rolled-back',
  };
  if (summary) run.finishedAt = summary.finishedAt;
  if (j.completedBy) run.completedBy = j.completedBy;
  if (j.rolledBackAt) run.rolledBackAt = j.rolledBackAt;
  const error = j.discarded ?? j.error;
  if (error) run.error = error;
  return run;
}

/** Journaled runs oldest first, and the last run when it has no journal (it renewed nothing). */
export function buildHistoryReport(journals: Journal[], state: State): HistoryReport {
  const runs = journals.map((j) => fromJournal(j, state));
  const last = state.lastRun;
  if (last && !journals.some((j) => j.id === last.id)) {
    runs.push({
      id: last.id, command: last.command, startedAt: last.startedAt, finishedAt: last.finishedAt, renewed: last.renewed,
      restarted: last.restarted, outcome: last.result, rolledBack: last.rolledBackAt !== undefined,
      ...(last.rolledBackAt ? { rolledBackAt: last.rolledBackAt } : {}),
    });
    runs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
  return { apiVersion: HISTORY_API_VERSION, kind: HISTORY_KIND, runs };
}

function outcomeText(r: HistoryRun): string {
  if (r.outcome === 'interrupted') return `interrupted, completed by run ${r.completedBy ?? '?'}`;
  if (r.outcome === 'discarded') return 'interrupted, discarded (staged files damaged)';
  return r.outcome;
}

const list = (names: string[]): string => (names.length === 0 ? '-' : names.length <= 2 ? names.join(',') : `${names.length}`);

export function printHistory(report: HistoryReport): string {
  if (report.runs.length === 0) return 'No runs on record.\n';
  const rows = report.runs.map((r) => [
    r.id, r.startedAt.replace(/\.\d+Z$/, 'Z'), list(r.renewed), list(r.restarted), outcomeText(r),
    r.rolledBack ? (r.rolledBackAt ? `yes, ${r.rolledBackAt.replace(/\.\d+Z$/, 'Z')}` : 'yes') : 'no',
  ]);
  return renderTable(['RUN ID', 'STARTED', 'RENEWED', 'RESTARTED', 'OUTCOME', 'ROLLED BACK'], rows);
}
