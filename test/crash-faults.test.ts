/**
 * A named fault point at every write step (src/host/faults.ts), each exercised: the CLI is killed there with
 * SIGKILL (KUBE_CERT_RENEWER_FAULT=<point>:<n>), then the next run must converge — every pair matches and verifies
 * (openssl), every due certificate renewed exactly once and recorded once under the run that wrote it, the restarts
 * owed made, no temporary file or staging directory left (test/helpers/crash.ts). Restarts are on, verification
 * off: the bounce is the manifest annotation, checked against the renewal's time.
 */
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAULT_POINTS } from '../src/host/faults.js';
import { runCli, runCliAsync, snapshotFiles } from './helpers/cli.js';
import { STATE_DIR, convergenceProblems, journalsOf, leftovers, serialsOf } from './helpers/crash.js';
import { useFixtureCopies } from './helpers/host-trees.js';

const CONFIG = 'renewInterval: 30d\nrenewBefore: 20d\nvalidity: 200d\nrestart:\n  enabled: true\n  verify: false\n';
// ECDSA keys: generating them costs nothing, so the runs spend their time on the write steps under test.
const trees = useFixtureCopies({ issuedDaysAgo: 40, keyAlgorithm: 'ecdsa-p256' });

async function killAt(root: string, fault: string, args = ['run']): Promise<void> {
  const r = await runCliAsync(['--root', root, ...args], { KUBE_CERT_RENEWER_FAULT: fault });
  expect(r.signal, `${fault}: the process must die there (stderr: ${r.stderr})`).toBe('SIGKILL');
}

function runAgain(root: string): string {
  const r = runCli(['--root', root, 'run']);
  expect(r.code, r.stderr).toBe(0);
  return r.stderr;
}

// Every point, at first and later passes: staging (36 files), the journal at each phase, each commit, the state,
// each restart and annotation, and temporaries at every stage of the run (stage, journal, commit, state, manifest).
const RUN_FAULTS = [
  'temp-written:1', 'temp-written:20', 'temp-written:37', 'temp-written:45', 'temp-written:57', 'temp-written:59', 'temp-written:62',
  'stage:1', 'stage:18', 'journal:1', 'journal:2', 'journal:3', 'journal:5', 'journal:7',
  'after-write:1', 'after-write:2', 'after-write:10', 'after-write:18', 'state:1',
  'restart:1', 'restart:3', 'annotate:1', 'annotate:2', 'annotate:4',
];

describe('a kill at each write step of run, then the next run converges', () => {
  it.each(RUN_FAULTS)('%s', async (fault) => {
    const root = trees.copy(CONFIG);
    const before = serialsOf(trees.base, root);
    await killAt(root, fault);
    const stderr = runAgain(root);
    expect(convergenceProblems(trees.base, root, before)).toEqual([]);
    if (fault.startsWith('temp-written')) expect(stderr).toMatch(/removed \/(etc\/kubernetes|var\/lib\/kube-cert-renewer)\/.*\.kcr-[0-9a-f]{8}, left by an interrupted run/);
    // A third run has nothing left to do.
    expect(runAgain(root)).toMatch(/nothing to renew/);
  });

  it('a run interrupted after its journal is recorded under its own id, and history says who completed it', async () => {
    const root = trees.copy(CONFIG);
    await killAt(root, 'after-write:5');
    const [killed] = journalsOf(root);
    runAgain(root);
    const state = JSON.parse(readFileSync(join(root, STATE_DIR, 'state.json'), 'utf8'));
    expect(state.entries.apiserver.runId).toBe(killed?.id);
    expect(state.lastRun.id).not.toBe(killed?.id);
    const history = JSON.parse(runCli(['--root', root, 'history', '-o', 'json']).stdout);
    expect(history.runs.find((r: { id: string }) => r.id === killed?.id)).toMatchObject({ outcome: 'interrupted', completedBy: state.lastRun.id, renewed: expect.arrayContaining(['apiserver']) });
    expect(runCli(['--root', root, 'history']).stdout).toContain(`interrupted, completed by run ${state.lastRun.id}`);
  });

  it('every fault point is exercised by this file', () => {
    const used = new Set([...RUN_FAULTS, ...ROLLBACK_FAULTS, 'prune:1'].map((f) => f.split(':')[0]));
    expect(FAULT_POINTS.filter((p) => !used.has(p))).toEqual([]);
  });
});

describe('staged files are checked before roll-forward', () => {
  it.each([
    ['a certificate swapped for another', 'journal:1', (dir: string) => cpSync(join(dir, 'new/etc/kubernetes/pki/front-proxy-client.crt'), join(dir, 'new/etc/kubernetes/pki/apiserver.crt'))],
    ['a truncated key, after part of the commit', 'after-write:3', (dir: string) => writeFileSync(join(dir, 'new/etc/kubernetes/pki/etcd/peer.key'), '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n')],
    ['a kubeconfig that no longer parses', 'journal:1', (dir: string) => writeFileSync(join(dir, 'new/etc/kubernetes/scheduler.conf'), 'users: [\n')],
  ])('%s: not rolled forward; the backups go back and the renewal is redone', async (_, fault, damage) => {
    const root = trees.copy(CONFIG);
    const before = serialsOf(trees.base, root);
    await killAt(root, fault);
    const [killed] = journalsOf(root);
    damage(join(root, STATE_DIR, 'backups', killed?.id as string));
    const stderr = runAgain(root);
    expect(stderr).toContain(`not finishing interrupted run ${killed?.id}: its staged files are damaged`);
    expect(convergenceProblems(trees.base, root, before)).toEqual([]);
    const after = journalsOf(root);
    expect(after.find((j) => j.id === killed?.id)).toMatchObject({ phase: 'failed', discarded: expect.any(String) });
    expect(after.filter((j) => j.phase === 'done')).toHaveLength(1);
  });
});

describe('the journal names host paths', () => {
  it('a tree moved after a crash is rolled forward where it is now, not where it was', async () => {
    const first = trees.copy(CONFIG);
    const before = serialsOf(trees.base, first);
    await killAt(first, 'after-write:4');
    const moved = trees.scratch();
    cpSync(first, moved, { recursive: true, verbatimSymlinks: true });
    const original = snapshotFiles(first);
    runAgain(moved);
    expect(convergenceProblems(trees.base, moved, before)).toEqual([]);
    expect(snapshotFiles(first), 'the old location is not written').toEqual(original);
    const journal = readFileSync(join(moved, STATE_DIR, 'backups', journalsOf(moved)[0]?.id as string, 'run.json'), 'utf8');
    expect(journal).not.toContain(first);
  });
});

const ROLLBACK_FAULTS = ['restore:1', 'restore:9', 'journal:1', 'state:1', 'temp-written:4', 'temp-written:20', 'restart:2', 'annotate:1'];

describe('a kill at each write step of rollback, then rollback again restores everything', () => {
  it.each(ROLLBACK_FAULTS)('%s', async (fault) => {
    const root = trees.copy(CONFIG);
    const pristine = snapshotFiles(join(root, 'etc/kubernetes/pki'));
    runAgain(root);
    await killAt(root, fault, ['rollback']);
    const r = runCli(['--root', root, 'rollback']);
    expect(r.code, r.stderr).toBe(0);
    expect(snapshotFiles(join(root, 'etc/kubernetes/pki')), 'every PKI file back, byte for byte and mode').toEqual(pristine);
    expect([...leftovers(join(root, 'etc/kubernetes')), ...leftovers(join(root, STATE_DIR))]).toEqual([]);
    const state = JSON.parse(readFileSync(join(root, STATE_DIR, 'state.json'), 'utf8'));
    expect(state.entries, 'no renewal remembered for certificates kubeadm issued').toEqual({});
    expect(journalsOf(root).map((j) => j.phase)).toEqual(['rolled-back']);
    const again = runCli(['--root', root, 'rollback']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/the most recent run, \S+, is already rolled back/);
  });

  it('a run after a killed rollback finishes the rollback, then renews afresh', async () => {
    const root = trees.copy(CONFIG);
    runAgain(root);
    await killAt(root, 'restore:5', ['rollback']);
    const stderr = runAgain(root);
    expect(stderr).toMatch(/finishing the rollback of run \S+, which was interrupted/);
    const journals = journalsOf(root);
    expect(journals.map((j) => j.phase)).toEqual(['rolled-back', 'done']);
    expect([...leftovers(join(root, 'etc/kubernetes')), ...leftovers(join(root, STATE_DIR))]).toEqual([]);
  });
});

describe('pruning after crashes (backups.keep)', () => {
  it('run directories without a journal are removed; the backups never hold more than keep runs', async () => {
    const root = trees.copy(`${CONFIG}backups:\n  keep: 2\n`);
    const backups = join(root, STATE_DIR, 'backups');
    await killAt(root, 'stage:7'); // staging died: a directory with old keys and no journal
    const orphan = readdirSync(backups);
    expect(orphan).toHaveLength(1);
    expect(existsSync(join(backups, orphan[0] as string, 'run.json'))).toBe(false);
    runAgain(root);
    expect(readdirSync(backups)).not.toContain(orphan[0]);
    for (let i = 0; i < 3; i++) expect(runCli(['--root', root, 'renew', 'front-proxy-client']).code).toBe(0);
    const ids = journalsOf(root).map((j) => j.id);
    expect(readdirSync(backups).sort()).toEqual(ids);
    expect(ids).toHaveLength(2);
    // A kill while pruning leaves at most one extra, which the next run removes: the newest are the ones kept.
    await killAt(root, 'prune:1', ['renew', 'front-proxy-client']);
    runCli(['--root', root, 'renew', 'front-proxy-client']);
    const kept = readdirSync(backups).sort();
    expect(kept).toHaveLength(2);
    expect(kept[0]! > (ids[1] as string)).toBe(true);
  });
});
