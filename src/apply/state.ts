/**
 * The state file (/var/lib/kube-cert-renewer/state.json): what each entry's last renewal was, and the run history
 * metrics and status read. Written atomically; a damaged file is reported and treated as empty, never fatal,
 * because the certificates on disk stay the source of truth.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../host/atomic.js';

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
}

export function emptyState(): State {
  return { apiVersion: STATE_API_VERSION, kind: 'RenewerState', entries: {}, renewalsTotal: {}, failuresTotal: 0, runsTotal: 0 };
}

export function readState(file: string): { state: State; warning?: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: emptyState() };
    return { state: emptyState(), warning: `${file}: cannot be read (${(err as NodeJS.ErrnoException).code}); ignoring it` };
  }
  try {
    const parsed = JSON.parse(text) as Partial<State>;
    if (parsed.kind !== 'RenewerState' || typeof parsed.entries !== 'object') throw new Error('not a state file');
    return { state: { ...emptyState(), ...parsed } as State };
  } catch (err) {
    return {
      state: emptyState(),
      warning: `${file}: is damaged (${(err as Error).message}); ignoring it, the certificates on disk are the truth`,
    };
  }
}

export function writeState(file: string, state: State): void {
  writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`, 0o600);
}
