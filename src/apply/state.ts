/**
 * The state file (/var/lib/kube-cert-renewer/state.json): what each entry's last renewal was, and the run history
 * metrics and status read. Written atomically; a damaged file is reported and treated as empty, never fatal,
 * because the certificates on disk stay the source of truth.
 */
import { writeFileAtomic } from '../host/atomic.js';
import { RefusedFileError, readBoundedText } from '../host/read.js';

export const STATE_API_VERSION = 'kube-cert-renewer.io/v1alpha1';

export interface EntryRenewal {
  renewedAt: string;
  runId: string;
  oldSerial: string;
  newSerial: string;
  oldNotAfter: string;
  newNotAfter: string;
}

export interface RunSummary {
  id: string;
  command: string;
  startedAt: string;
  finishedAt: string;
  result: 'success' | 'failure' | 'rolled-back';
  renewed: string[];
  failed: string[];
  restarted: string[];
  /** Set when `rollback` restored this run's files afterwards. */
  rolledBackAt?: string;
  /** Per component: reloaded by itself or restarted, and why (restart.mode). */
  actions?: Array<{ component: string; action: 'reload' | 'restart'; why: string }>;
}

/** A component still running certificates older than the files on disk: renewed while restart.enabled was false. */
export interface PendingRestart {
  component: string;
  /** The first renewal it has not picked up. */
  since: string;
  /** The latest renewal it has not picked up: a process started after it runs every renewed file. */
  latest?: string;
  runId: string;
  entries: string[];
}

export interface State {
  apiVersion: string;
  kind: 'RenewerState';
  entries: Record<string, EntryRenewal>;
  lastRun?: RunSummary;
  lastSuccessAt?: string;
  renewalsTotal: Record<string, number>;
  failuresTotal: number;
  runsTotal: number;
  pendingRestarts?: PendingRestart[];
}

/** Remember that these components still run the old certificates (a renewal made with restart.enabled false). */
export function addPendingRestarts(state: State, components: readonly string[], entries: readonly string[], runId: string, at: string): void {
  const pending = state.pendingRestarts ?? [];
  for (const component of components) {
    const known = pending.find((p) => p.component === component);
    if (known) {
      known.runId = runId;
      known.latest = at;
      known.entries = [...new Set([...known.entries, ...entries])];
    } else pending.push({ component, since: at, latest: at, runId, entries: [...entries] });
  }
  state.pendingRestarts = pending;
}

/** These components were restarted: they run what is on disk now. */
export function clearPendingRestarts(state: State, restarted: readonly string[]): void {
  if (!state.pendingRestarts) return;
  state.pendingRestarts = state.pendingRestarts.filter((p) => !restarted.includes(p.component));
}

export function emptyState(): State {
  return { apiVersion: STATE_API_VERSION, kind: 'RenewerState', entries: {}, renewalsTotal: {}, failuresTotal: 0, runsTotal: 0 };
}

export function readState(file: string): { state: State; warning?: string } {
  let text: string;
  try {
    text = readBoundedText(file, 'state');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: emptyState() };
    const why = err instanceof RefusedFileError ? err.detail : `cannot be read (${(err as NodeJS.ErrnoException).code})`;
    return { state: emptyState(), warning: `${file}: ${why}; ignoring it (the certificates on disk are the truth); remove it and the next run writes a new one` };
  }
  try {
    const parsed = JSON.parse(text) as Partial<State>;
    if (parsed.kind !== 'RenewerState' || typeof parsed.entries !== 'object') throw new Error('not a state file');
    return { state: { ...emptyState(), ...parsed } as State };
  } catch (err) {
    return {
      state: emptyState(),
      warning: `${file}: is damaged (${(err as Error).message}); ignoring it (the certificates on disk are the truth); the next run writes a new one`,
    };
  }
}

export function writeState(file: string, state: State): void {
  writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`, 0o600);
}
