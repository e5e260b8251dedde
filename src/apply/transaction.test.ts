/**
 * The write transaction on a temp-dir host tree: staging changes nothing on the host and keeps backups and staged
 * files private (0600 in 0700 directories); commit puts the new files in place with their modes and owners and
 * journals it; restore puts back the old bytes, mode and owner; pruning drops only the oldest finished runs.
 */
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/config.js';
import { HostFileError, UsageError } from '../errors.js';
import { type HostPaths, hostPaths } from '../host/paths.js';
import type { PlanItem } from '../plan/plan.js';
import type { PreparedRenewal } from './prepare.js';
import type { EntryRenewal } from './state.js';
import {
  JOURNAL_API_VERSION, type Journal, isRunId, type Phase, commitRun, interruptedRuns, listRuns, newRunId, pruneRuns, readJournal,
  fsPathOf, restoreRun, runDir, stageRun, writeJournal,
} from './transaction.js';

const NOW = new Date('2026-11-22T21:53:56.123Z');
const ROOT = process.getuid?.() === 0;
// A non-root owner, as on hosts where the PKI is not root's: only root can give files to another user.
const OWNER = { uid: 4321, gid: 4322 };

let root: string;
let paths: HostPaths;
let key: string;
let crt: string;

const mode = (p: string): number => statSync(p).mode & 0o777;

function item(name: string): PlanItem {
  return {
    name, kind: 'pki', reasons: ['interval'], why: 'w', oldSerial: `OLD-${name}`, oldNotAfter: new Date('2027-01-01T00:00:00Z'),
    newNotAfter: new Date('2027-11-22T21:53:56Z'), cappedByCa: false, files: [], restarts: ['kube-apiserver'],
  };
}

function renewal(): PreparedRenewal {
  return {
    item: item('apiserver'), newSerial: 'NEW-apiserver', newNotAfter: new Date('2027-11-22T21:53:56Z'),
    writes: [{ path: key, content: 'NEW KEY\n', mode: 0o600 }, { path: crt, content: 'NEW CERT\n', mode: 0o644 }],
  };
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kcr-tx-'));
  paths = hostPaths(root, defaultConfig());
  mkdirSync(paths.pki, { recursive: true });
  mkdirSync(paths.manifests, { recursive: true });
  key = join(paths.pki, 'apiserver.key');
  crt = join(paths.pki, 'apiserver.crt');
  writeFileSync(key, 'OLD KEY\n', { mode: 0o600 });
  writeFileSync(crt, 'OLD CERT\n', { mode: 0o640 });
  if (ROOT) for (const f of [key, crt]) chownSync(f, OWNER.uid, OWNER.gid);
  return () => rmSync(root, { recursive: true, force: true });
});

/** Every directory from `dir` down to the files under it, with its mode. */
function walk(dir: string): Array<{ path: string; dir: boolean; mode: number }> {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    const isDir = statSync(p).isDirectory();
    return [{ path: p, dir: isDir, mode: mode(p) }, ...(isDir ? walk(p) : [])];
  });
}

describe('newRunId', () => {
  it('is the time to the millisecond and six hex digits, sorting by time', () => {
    const id = newRunId(NOW);
    expect(id).toMatch(/^20261122T215356\.123Z-[0-9a-f]{6}$/);
    expect(newRunId(NOW)).not.toBe(id);
    expect(newRunId(new Date(NOW.getTime() + 1)) > id).toBe(true);
    expect(runDir(paths, id)).toBe(join(paths.backups, id));
  });
});

describe('stageRun', () => {
  it('changes nothing on the host, and backs up and stages every file privately', () => {
    const id = newRunId(NOW);
    stageRun(paths, id, 'run', NOW, [renewal()], ['kube-apiserver']);
    expect(readFileSync(key, 'utf8')).toBe('OLD KEY\n');
    expect(readFileSync(crt, 'utf8')).toBe('OLD CERT\n');
    expect(mode(crt)).toBe(0o640);
    const dir = runDir(paths, id);
    expect(mode(dir)).toBe(0o700);
    expect(readFileSync(join(dir, 'old/etc/kubernetes/pki/apiserver.key'), 'utf8')).toBe('OLD KEY\n');
    expect(readFileSync(join(dir, 'old/etc/kubernetes/pki/apiserver.crt'), 'utf8')).toBe('OLD CERT\n');
    expect(readFileSync(join(dir, 'new/etc/kubernetes/pki/apiserver.key'), 'utf8')).toBe('NEW KEY\n');
    expect(readFileSync(join(dir, 'new/etc/kubernetes/pki/apiserver.crt'), 'utf8')).toBe('NEW CERT\n');
    const tree = walk(dir);
    expect(tree.filter((e) => e.dir).map((e) => [e.path, e.mode])).toEqual(tree.filter((e) => e.dir).map((e) => [e.path, 0o700]));
    expect(tree.filter((e) => !e.dir).map((e) => [e.path, e.mode])).toEqual(tree.filter((e) => !e.dir).map((e) => [e.path, 0o600]));
    expect(tree.filter((e) => !e.dir)).toHaveLength(5); // 2 backups, 2 staged, run.json
    expect(readdirSync(paths.manifests)).toEqual([]);
  });

  it('journals `prepared` with each file’s host path, mode and owner', () => {
    const id = newRunId(NOW);
    const journal = stageRun(paths, id, 'renew apiserver', NOW, [renewal()], ['kube-apiserver']);
    const owner = ROOT ? OWNER : { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
    const file = (name: string, m: number, newMode: number) => ({
      hostPath: `/etc/kubernetes/pki/${name}`, mode: m, newMode, ...owner, // host paths only: a moved tree still applies
      backup: `old/etc/kubernetes/pki/${name}`, staged: `new/etc/kubernetes/pki/${name}`,
    });
    const expected: Journal = {
      apiVersion: JOURNAL_API_VERSION, kind: 'RenewalRun', id, command: 'renew apiserver', startedAt: NOW.toISOString(),
      phase: 'prepared',
      entries: [{
        name: 'apiserver', oldSerial: 'OLD-apiserver', newSerial: 'NEW-apiserver', oldNotAfter: '2027-01-01T00:00:00.000Z',
        newNotAfter: '2027-11-22T21:53:56.000Z', files: [file('apiserver.key', 0o600, 0o600), file('apiserver.crt', 0o640, 0o644)],
      }],
      restarts: ['kube-apiserver'], restarted: [], verified: [],
    };
    expect(journal).toStrictEqual(expected);
    expect(readJournal(paths, id)).toStrictEqual(expected);
    expect(JOURNAL_API_VERSION).toBe('kube-cert-renewer.io/v1alpha1');
  });

  it('keeps the state’s record of the renewal being replaced, for rollback', () => {
    const previous: EntryRenewal = {
      renewedAt: '2026-01-01T00:00:00.000Z', runId: 'r0', oldSerial: 'A', newSerial: 'OLD-apiserver',
      oldNotAfter: '2026-06-01T00:00:00.000Z', newNotAfter: '2027-01-01T00:00:00.000Z',
    };
    const withPrevious = stageRun(paths, newRunId(NOW), 'run', NOW, [renewal()], [], { apiserver: previous, etcd: { ...previous, runId: 'x' } });
    expect(withPrevious.entries[0]?.previousRenewal).toStrictEqual(previous);
    const without = stageRun(paths, newRunId(NOW), 'run', NOW, [renewal()], [], { etcd: previous });
    expect(without.entries[0]).not.toHaveProperty('previousRenewal');
  });
});

describe('writeJournal and readJournal', () => {
  it('writes run.json 0600, pretty and newline-terminated, and reads it back', () => {
    const journal = stageRun(paths, newRunId(NOW), 'run', NOW, [], []);
    journal.phase = 'restarting';
    journal.restarted = ['etcd'];
    writeJournal(paths, journal);
    const file = join(runDir(paths, journal.id), 'run.json');
    expect(mode(file)).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify(journal, null, 2)}\n`);
    expect(readJournal(paths, journal.id)).toStrictEqual(journal);
  });

  it('has no journal for a run that does not exist', () => {
    expect(readJournal(paths, newRunId(NOW))).toBeUndefined();
  });
});

describe('commitRun', () => {
  it('puts every staged file in place with its new mode, keeping the owner, then journals `committed` and drops new/', () => {
    const journal = stageRun(paths, newRunId(NOW), 'run', NOW, [renewal()], []);
    commitRun(paths, journal);
    expect(readFileSync(key, 'utf8')).toBe('NEW KEY\n');
    expect(readFileSync(crt, 'utf8')).toBe('NEW CERT\n');
    expect([mode(key), mode(crt)]).toEqual([0o600, 0o644]);
    if (ROOT) expect([statSync(crt).uid, statSync(crt).gid, statSync(key).uid]).toEqual([OWNER.uid, OWNER.gid, OWNER.uid]);
    expect(readJournal(paths, journal.id)?.phase).toBe('committed');
    const dir = runDir(paths, journal.id);
    expect(existsSync(join(dir, 'new'))).toBe(false);
    expect(readFileSync(join(dir, 'old/etc/kubernetes/pki/apiserver.key'), 'utf8')).toBe('OLD KEY\n');
    expect(readdirSync(paths.pki).sort()).toEqual(['apiserver.crt', 'apiserver.key']);
  });

  it('rolls a half-committed run forward: the key already new, the certificate not yet', () => {
    const journal = stageRun(paths, newRunId(NOW), 'run', NOW, [renewal()], []);
    writeFileSync(key, 'NEW KEY\n');
    expect(interruptedRuns(paths).map((j) => j.id)).toEqual([journal.id]);
    commitRun(paths, readJournal(paths, journal.id) as Journal);
    expect([readFileSync(key, 'utf8'), readFileSync(crt, 'utf8')]).toEqual(['NEW KEY\n', 'NEW CERT\n']);
    expect(interruptedRuns(paths)).toEqual([]);
  });
});

describe('restoreRun', () => {
  it('puts back the old bytes, mode and owner', () => {
    const journal = stageRun(paths, newRunId(NOW), 'run', NOW, [renewal()], []);
    commitRun(paths, journal);
    if (ROOT) chownSync(crt, 0, 0);
    restoreRun(paths, journal);
    expect(readFileSync(key, 'utf8')).toBe('OLD KEY\n');
    expect(readFileSync(crt, 'utf8')).toBe('OLD CERT\n');
    expect([mode(key), mode(crt)]).toEqual([0o600, 0o640]);
    if (ROOT) expect([statSync(crt).uid, statSync(crt).gid]).toEqual([OWNER.uid, OWNER.gid]);
    expect(readdirSync(paths.pki).sort()).toEqual(['apiserver.crt', 'apiserver.key']);
  });
});

/** A finished or unfinished run of `phase`, `ms` after NOW. */
function runAt(ms: number, phase: Phase): string {
  const journal = stageRun(paths, newRunId(new Date(NOW.getTime() + ms)), 'run', NOW, [renewal()], []);
  if (phase !== 'prepared') commitRun(paths, journal);
  journal.phase = phase;
  writeJournal(paths, journal);
  return journal.id;
}

describe('listRuns and interruptedRuns', () => {
  it('lists journaled runs oldest first, skipping what is not a run', () => {
    const b = runAt(2_000, 'done');
    const a = runAt(1_000, 'failed');
    mkdirSync(join(paths.backups, 'lost+found'));
    const damaged = newRunId(new Date(NOW.getTime() + 3_000));
    mkdirSync(join(paths.backups, damaged));
    writeFileSync(join(paths.backups, damaged, 'run.json'), '{"kind":"Something"}');
    expect(listRuns(paths).map((j) => j.id)).toEqual([a, b]);
  });

  it('lists nothing when there is no backups directory', () => {
    expect(existsSync(paths.backups)).toBe(false);
    expect(listRuns(paths)).toEqual([]);
    expect(interruptedRuns(paths)).toEqual([]);
  });

  it('finds only runs that staged and did not commit, with their staged files', () => {
    runAt(1_000, 'committed');
    const died = runAt(2_000, 'prepared');
    runAt(3_000, 'done');
    const lostStaging = runAt(4_000, 'prepared');
    rmSync(join(runDir(paths, lostStaging), 'new'), { recursive: true });
    expect(interruptedRuns(paths).map((j) => j.id)).toEqual([died]);
  });
});

describe('pruneRuns', () => {
  it('counts every run toward `keep` and drops finished ones only, oldest first; never an unfinished one', () => {
    const ids = [
      runAt(1_000, 'done'), runAt(2_000, 'prepared'), runAt(3_000, 'failed'), runAt(4_000, 'rolled-back'),
      runAt(5_000, 'committed'), runAt(6_000, 'done'), runAt(7_000, 'restarting'), runAt(8_000, 'verified'),
    ];
    const [r1, r2, r3, r4, r5, r6, r7, r8] = ids;
    expect(pruneRuns(paths, 8)).toEqual([]); // eight runs, keep 8: nothing
    expect(pruneRuns(paths, 5)).toEqual([r1, r3, r4]);
    expect(readdirSync(paths.backups).sort()).toEqual([r2, r5, r6, r7, r8]);
    expect(pruneRuns(paths, 4)).toEqual([r6]);
    expect(pruneRuns(paths, 2)).toEqual([]); // what is left is unfinished
    expect(listRuns(paths).map((j) => j.id)).toEqual([r2, r5, r7, r8]);
  });

  it('prunes past what is not a run (lost+found where backups/ is a filesystem of its own), leaving it alone', () => {
    const [r1, r2] = [runAt(1_000, 'done'), runAt(2_000, 'done')];
    mkdirSync(join(paths.backups, 'lost+found'));
    writeFileSync(join(paths.backups, 'notes.txt'), 'an operator note');
    expect(pruneRuns(paths, 1)).toEqual([r1]);
    expect(readdirSync(paths.backups).sort()).toEqual([r2, 'lost+found', 'notes.txt']);
  });
});

describe('run ids', () => {
  it.each(['../../../../x', '20261122T215356.123Z-1a2b3c/../..', '20261122T215356.123Z-1A2B3C', '', 'lost+found'])(
    'refuses %j before building any path', (id) => {
      expect(isRunId(id)).toBe(false);
      for (const call of [() => runDir(paths, id), () => readJournal(paths, id)]) {
        expect(call).toThrowError(UsageError);
        expect(call).toThrowError(`${JSON.stringify(id)} is not a run id`);
      }
    },
  );
});

describe('damaged journals', () => {
  const journalFile = (id: string): string => join(runDir(paths, id), 'run.json');
  it.each([
    ['not JSON', () => '{"kind": "RenewalRun"', /is damaged \(.+\)$/],
    ['JSON null', () => 'null', /is damaged \(not a RenewalRun journal\)$/],
    ['another kind', () => '{"kind": "Something"}', /is damaged \(not a RenewalRun journal\)$/],
    ['another run’s journal', () => JSON.stringify({ kind: 'RenewalRun', id: '20200101T000000.000Z-000000', entries: [] }), /is damaged \(it names run "20200101T000000.000Z-000000"\)$/],
    ['no entries', (id: string) => JSON.stringify({ kind: 'RenewalRun', id }), /is damaged \(no entries\)$/],
  ])('%s: named, and skipped by listRuns with a word to the caller', (_, content, message) => {
    const good = runAt(1_000, 'done');
    const id = newRunId(new Date(NOW.getTime() + 2_000));
    mkdirSync(runDir(paths, id), { recursive: true });
    writeFileSync(journalFile(id), content(id));
    let err: unknown;
    try {
      readJournal(paths, id);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HostFileError);
    expect((err as HostFileError).message.startsWith(`${journalFile(id)}: `)).toBe(true);
    expect((err as HostFileError).message).toMatch(message);
    expect((err as HostFileError).hint).toBe(`this run's journal is lost: check the files it names by hand, then remove ${runDir(paths, id)}`);
    const damaged: string[] = [];
    expect(listRuns(paths, (e) => damaged.push(e.file)).map((j) => j.id)).toEqual([good]);
    expect(damaged).toEqual([journalFile(id)]);
  });

  it('a run directory without a journal is no run, and no damage', () => {
    const id = newRunId(NOW);
    mkdirSync(runDir(paths, id), { recursive: true });
    const damaged: unknown[] = [];
    expect(readJournal(paths, id)).toBeUndefined();
    expect(listRuns(paths, (e) => damaged.push(e))).toEqual([]);
    expect(damaged).toEqual([]);
  });
});

describe('a file the run creates (a forced renewal repairing a lost key)', () => {
  it('is journaled as absent, with no backup, and removed again by restore', () => {
    rmSync(key);
    const journal = stageRun(paths, newRunId(NOW), 'renew apiserver', NOW, [renewal()], []);
    const f = journal.entries[0]?.files[0];
    expect(f && fsPathOf(paths, f)).toBe(key);
    expect(f).not.toHaveProperty('path');
    expect(f).toMatchObject({ absent: true, mode: 0o600, newMode: 0o600, uid: process.getuid?.(), gid: process.getgid?.() });
    expect(existsSync(join(runDir(paths, journal.id), 'old/etc/kubernetes/pki/apiserver.key'))).toBe(false);
    expect(journal.entries[0]?.files[1]).not.toHaveProperty('absent');
    commitRun(paths, journal);
    expect(readFileSync(key, 'utf8')).toBe('NEW KEY\n');
    restoreRun(paths, journal);
    expect(existsSync(key)).toBe(false);
    expect(readFileSync(crt, 'utf8')).toBe('OLD CERT\n');
  });
});

describe('a committed run', () => {
  it('is never rolled forward again, even with a staging directory left behind', () => {
    const id = runAt(1_000, 'committed');
    mkdirSync(join(runDir(paths, id), 'new'));
    expect(interruptedRuns(paths)).toEqual([]);
  });
});

