/**
 * undoRenewals: after a run's files are restored, each entry's "last renewal" in the state is the one that issued
 * the certificate now back in place — never the undone run's, never a run that did not stand (rolled back or never
 * committed), never a later one — or none when kubeadm issued it. Counters stay.
 */
import { describe, expect, it } from 'vitest';
import { type EntryRenewal, type State, emptyState } from './state.js';
import type { Journal, JournalEntry, Phase } from './transaction.js';
import { undoRenewals } from './undo.js';

function entry(name: string, oldSerial: string, newSerial: string, previousRenewal?: EntryRenewal): JournalEntry {
  return {
    name, oldSerial, newSerial, oldNotAfter: `${oldSerial}-notAfter`, newNotAfter: `${newSerial}-notAfter`, files: [],
    ...(previousRenewal ? { previousRenewal } : {}),
  };
}

function run(id: string, phase: Phase, entries: JournalEntry[]): Journal {
  return {
    apiVersion: 'kube-cert-renewer.io/v1alpha1', kind: 'RenewalRun', id, command: 'run', startedAt: `${id}-start`, phase,
    entries, restarts: [], restarted: [], verified: [],
  };
}

/** What the state records for `name` renewed by `r`. */
function recordOf(r: Journal, name: string): EntryRenewal {
  const e = r.entries.find((x) => x.name === name) as JournalEntry;
  return {
    renewedAt: r.startedAt, runId: r.id, oldSerial: e.oldSerial, newSerial: e.newSerial, oldNotAfter: e.oldNotAfter, newNotAfter: e.newNotAfter,
  };
}

function stateAfter(undone: Journal): State {
  const state = emptyState();
  state.entries.apiserver = { ...recordOf(undone, 'apiserver') };
  state.renewalsTotal = { apiserver: 3 };
  state.runsTotal = 7;
  state.failuresTotal = 1;
  return state;
}

describe('undoRenewals', () => {
  it('restores the record the journal kept when it issued the certificate now back', () => {
    const kept: EntryRenewal = {
      renewedAt: 'then', runId: 'r0', oldSerial: 'A', newSerial: 'B', oldNotAfter: 'A-notAfter', newNotAfter: 'B-notAfter',
    };
    const undone = run('r3', 'restarting', [entry('apiserver', 'B', 'C', kept)]);
    const state = stateAfter(undone);
    undoRenewals(state, undone, [run('r1', 'done', [entry('apiserver', 'A', 'B')]), undone]);
    expect(state.entries.apiserver).toStrictEqual(kept);
  });

  it('ignores a kept record for another serial and finds the earlier run that issued the one back in place', () => {
    const stale: EntryRenewal = { renewedAt: 'x', runId: 'r0', oldSerial: 'Z', newSerial: 'Y', oldNotAfter: 'x', newNotAfter: 'x' };
    const r1 = run('r1', 'done', [entry('etcd-server', 'E', 'F'), entry('apiserver', 'A', 'B')]);
    const undone = run('r3', 'restarting', [entry('apiserver', 'B', 'C', stale)]);
    const state = stateAfter(undone);
    undoRenewals(state, undone, [r1, undone]);
    expect(state.entries.apiserver).toStrictEqual(recordOf(r1, 'apiserver'));
  });

  it('credits the latest earlier run that stood, not a rolled-back, unfinished or later one', () => {
    const r1 = run('r1', 'done', [entry('apiserver', 'A', 'B')]);
    const r2 = run('r2', 'committed', [entry('apiserver', 'A', 'B')]);
    const rolledBack = run('r3', 'rolled-back', [entry('apiserver', 'A', 'B')]);
    const neverCommitted = run('r4', 'prepared', [entry('apiserver', 'A', 'B')]);
    const undone = run('r5', 'verified', [entry('apiserver', 'B', 'C')]);
    const later = run('r6', 'done', [entry('apiserver', 'A', 'B')]);
    const state = stateAfter(undone);
    undoRenewals(state, undone, [r1, r2, rolledBack, neverCommitted, undone, later]);
    expect(state.entries.apiserver).toStrictEqual(recordOf(r2, 'apiserver'));
  });

  it('forgets the entry when no run of ours issued it (kubeadm did), whatever other entries earlier runs renewed', () => {
    const r1 = run('r1', 'done', [entry('etcd-server', 'A', 'B'), entry('apiserver', 'Q', 'R')]);
    const undone = run('r3', 'failed', [entry('apiserver', 'B', 'C')]);
    const state = stateAfter(undone);
    state.entries['etcd-server'] = recordOf(r1, 'etcd-server');
    undoRenewals(state, undone, [r1, undone]);
    expect(state.entries).toStrictEqual({ 'etcd-server': recordOf(r1, 'etcd-server') });
  });

  it('never touches the counters: they count renewals written', () => {
    const undone = run('r3', 'failed', [entry('apiserver', 'B', 'C')]);
    const state = stateAfter(undone);
    undoRenewals(state, undone, [undone]);
    expect([state.renewalsTotal, state.runsTotal, state.failuresTotal]).toStrictEqual([{ apiserver: 3 }, 7, 1]);
  });
});
