/**
 * The transaction when a run dies part-way, in process: the crash harness's named fault points (src/host/faults.ts) throw
 * here instead of SIGKILLing, so each write step can be interrupted and what it leaves behind checked, then finished
 * by the next call as the next run would. Also the backups directory as the next run finds it: run directories left
 * without a journal, journals that cannot be read, entries that are not runs, and directory order.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultConfig } from '../config/config.js';
import { HostFileError, UsageError } from '../errors.js';
import { type HostPaths, hostPaths } from '../host/paths.js';
import type { PreparedRenewal } from './prepare.js';
import {
  type Journal, closeRun, commitRun, interruptedRuns, listRuns, newRunId, orphanRunDirs, pruneRuns, readJournal, restoreRun,
  runDir, stageRun,
} from './transaction.js';

class Crash extends Error {}
const fault = vi.hoisted(() => ({ point: '', left: 0 }));
vi.mock('../host/faults.js', () => ({
  faultPoint: (point: string): void => {
    if (point === fault.point && --fault.left === 0) throw new Crash(`killed at ${point}`);
  },
}));
/** The next `nth` pass through `point` dies. */
function dieAt(point: string, nth = 1): void {
  Object.assign(fault, { point, left: nth });
}

const NOW = new Date('2026-11-22T21:53:56.123Z');
let root: string;
let paths: HostPaths;
let key: string;
let crt: string;
const text = (p: string): string => readFileSync(p, 'utf8');

function renewal(): PreparedRenewal {
  return {
    item: {
      name: 'apiserver', kind: 'pki', reasons: ['interval'], why: 'w', oldSerial: 'OLD', oldNotAfter: new Date('2027-01-01T00:00:00Z'),
      newNotAfter: new Date('2027-11-22T21:53:56Z'), cappedByCa: false, files: [], restarts: ['kube-apiserver'],
    },
    newSerial: 'NEW', newNotAfter: new Date('2027-11-22T21:53:56Z'),
    writes: [{ path: key, content: 'NEW KEY\n', mode: 0o600 }, { path: crt, content: 'NEW CERT\n', mode: 0o644 }],
  };
}

const idAt = (ms: number): string => newRunId(new Date(NOW.getTime() + ms));

/** A run `ms` after NOW that got as far as `phase`. */
function runAt(ms: number, phase: 'prepared' | 'committed' | 'done'): string {
  const journal = stageRun(paths, idAt(ms), 'run', NOW, [renewal()], []);
  if (phase !== 'prepared') commitRun(paths, journal);
  if (phase === 'done') closeRun(paths, journal, 'done');
  return journal.id;
}

beforeEach(() => {
  fault.point = '';
  root = mkdtempSync(join(tmpdir(), 'kcr-txr-'));
  paths = hostPaths(root, defaultConfig());
  mkdirSync(paths.pki, { recursive: true });
  key = join(paths.pki, 'apiserver.key');
  crt = join(paths.pki, 'apiserver.crt');
  writeFileSync(key, 'OLD KEY\n', { mode: 0o600 });
  writeFileSync(crt, 'OLD CERT\n', { mode: 0o640 });
  return () => rmSync(root, { recursive: true, force: true });
});

describe('a run killed while staging', () => {
  it('before its journal: the host is untouched, and its directory is an orphan that pruning counts and removes', () => {
    const id = idAt(1_000);
    dieAt('stage', 2);
    expect(() => stageRun(paths, id, 'run', NOW, [renewal()], [])).toThrowError(Crash);
    expect([text(key), text(crt)]).toEqual(['OLD KEY\n', 'OLD CERT\n']);
    expect(readJournal(paths, id)).toBeUndefined();
    expect(interruptedRuns(paths)).toEqual([]);
    const done = runAt(2_000, 'done');
    mkdirSync(join(paths.backups, 'lost+found'));
    expect(orphanRunDirs(paths)).toEqual([runDir(paths, id)]);
    expect(pruneRuns(paths, 1)).toEqual([id]);
    expect(readdirSync(paths.backups).sort()).toEqual([done, 'lost+found']);
    expect(orphanRunDirs(paths)).toEqual([]);
  });

  it('right after its `prepared` journal: the next run rolls it forward', () => {
    const id = idAt(1_000);
    dieAt('journal');
    expect(() => stageRun(paths, id, 'run', NOW, [renewal()], [])).toThrowError(Crash);
    expect([text(key), text(crt)]).toEqual(['OLD KEY\n', 'OLD CERT\n']);
    expect(interruptedRuns(paths).map((j) => j.id)).toEqual([id]);
    expect(orphanRunDirs(paths)).toEqual([]);
    commitRun(paths, readJournal(paths, id) as Journal);
    expect([text(key), text(crt)]).toEqual(['NEW KEY\n', 'NEW CERT\n']);
  });
});

describe('a commit killed after its first file', () => {
  it('leaves the journal `prepared` with the key new and the certificate old, and the next commit finishes it', () => {
    const journal = stageRun(paths, idAt(1_000), 'run', NOW, [renewal()], []);
    dieAt('after-write');
    expect(() => commitRun(paths, journal)).toThrowError(Crash);
    expect([text(key), text(crt)]).toEqual(['NEW KEY\n', 'OLD CERT\n']);
    expect(readJournal(paths, journal.id)?.phase).toBe('prepared');
    commitRun(paths, interruptedRuns(paths)[0] as Journal);
    expect([text(key), text(crt)]).toEqual(['NEW KEY\n', 'NEW CERT\n']);
    expect(readJournal(paths, journal.id)?.phase).toBe('committed');
  });
});

describe('a rollback killed after its first file', () => {
  it('is journaled `rolling-back` before any file is put back, and the next restore finishes it', () => {
    const journal = stageRun(paths, idAt(1_000), 'run', NOW, [renewal()], []);
    commitRun(paths, journal);
    dieAt('restore');
    expect(() => restoreRun(paths, journal)).toThrowError(Crash);
    expect([text(key), text(crt)]).toEqual(['OLD KEY\n', 'NEW CERT\n']);
    const found = readJournal(paths, journal.id) as Journal;
    expect(found.phase).toBe('rolling-back');
    restoreRun(paths, found);
    expect([text(key), text(crt)]).toEqual(['OLD KEY\n', 'OLD CERT\n']);
  });

  it('finishes even when the file the run created is already gone', () => {
    rmSync(key);
    const journal = stageRun(paths, idAt(1_000), 'renew apiserver', NOW, [renewal()], []);
    commitRun(paths, journal);
    dieAt('restore');
    expect(() => restoreRun(paths, journal)).toThrowError(Crash);
    expect(existsSync(key)).toBe(false);
    restoreRun(paths, readJournal(paths, journal.id) as Journal);
    expect(existsSync(key)).toBe(false);
    expect(text(crt)).toBe('OLD CERT\n');
  });
});

describe('closeRun', () => {
  it('drops the staged copies, keeps the backups and journals the phase; again on a run with none staged', () => {
    const journal = stageRun(paths, idAt(1_000), 'run', NOW, [renewal()], []);
    const dir = runDir(paths, journal.id);
    closeRun(paths, journal, 'failed');
    expect(readdirSync(dir).sort()).toEqual(['old', 'run.json']);
    expect(readJournal(paths, journal.id)?.phase).toBe('failed');
    closeRun(paths, journal, 'done');
    expect(readJournal(paths, journal.id)?.phase).toBe('done');
    expect(text(join(dir, 'old/etc/kubernetes/pki/apiserver.key'))).toBe('OLD KEY\n');
  });
});

describe('pruning killed after its first removal', () => {
  it('has removed the oldest run only, and the next prune goes on', () => {
    const [, b, c] = [runAt(1_000, 'done'), runAt(2_000, 'done'), runAt(3_000, 'done')];
    dieAt('prune');
    expect(() => pruneRuns(paths, 1)).toThrowError(Crash);
    expect(readdirSync(paths.backups).sort()).toEqual([b, c]);
    expect(pruneRuns(paths, 1)).toEqual([b]);
    expect(readdirSync(paths.backups)).toEqual([c]);
  });
});

describe('the order of runs is their ids’, not the directory’s', () => {
  it('lists and prunes oldest first whatever order the runs were made in', () => {
    const order = [5, 2, 7, 1, 6, 3, 4];
    const ids = order.map((n) => runAt(n * 1_000, 'done'));
    const sorted = [...ids].sort();
    expect(listRuns(paths).map((j) => j.id)).toEqual(sorted);
    expect(pruneRuns(paths, 4)).toEqual(sorted.slice(0, 3));
  });
});

describe('what the backups directory holds besides runs', () => {
  it('has no orphans and prunes nothing when there is no backups directory yet', () => {
    expect(orphanRunDirs(paths)).toEqual([]);
    expect(pruneRuns(paths, 0)).toEqual([]);
  });

  it('a file named like a run is no run and no damage', () => {
    const good = runAt(1_000, 'done');
    const stray = idAt(2_000);
    writeFileSync(join(paths.backups, stray), 'not a directory');
    const damaged: unknown[] = [];
    expect(readJournal(paths, stray)).toBeUndefined();
    expect(listRuns(paths, (e) => damaged.push(e)).map((j) => j.id)).toEqual([good]);
    expect(damaged).toEqual([]);
    expect(pruneRuns(paths, 1)).toEqual([]);
    expect(existsSync(join(paths.backups, stray))).toBe(true);
  });

  it.each([
    ['a directory', (f: string) => mkdirSync(f), 'is a directory, not a regular file', 'replace it with the real file'],
    ['a symlink loop', (f: string) => symlinkSync(f, f), 'cannot be read (ELOOP)', 'check its permissions'],
  ])('a run.json that is %s is named with why it cannot be read, and skipped by listRuns with a word', (_, make, why, hint) => {
    const good = runAt(1_000, 'done');
    const id = idAt(2_000);
    mkdirSync(runDir(paths, id));
    const file = join(runDir(paths, id), 'run.json');
    make(file);
    const err = (() => {
      try {
        readJournal(paths, id);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(HostFileError);
    expect((err as HostFileError).message).toBe(`${file}: ${why}`);
    expect((err as HostFileError).hint?.startsWith(hint)).toBe(true);
    const damaged: string[] = [];
    expect(listRuns(paths, (e) => damaged.push(e.file)).map((j) => j.id)).toEqual([good]);
    expect(damaged).toEqual([file]);
  });

  it('a journal that is not JSON is called damaged with the parse error', () => {
    const id = runAt(1_000, 'done');
    writeFileSync(join(runDir(paths, id), 'run.json'), '{"kind": "RenewalRun"');
    expect(() => readJournal(paths, id)).toThrowError(/run\.json: is damaged \(.*JSON.*\)$/);
  });
});

describe('staging where the backups directory cannot be made', () => {
  it('names the run directory, and changes nothing on the host', () => {
    mkdirSync(join(paths.backups, '..'), { recursive: true });
    writeFileSync(paths.backups, 'a file where the backups directory should be');
    const id = idAt(1_000);
    let err: unknown;
    try {
      stageRun(paths, id, 'run', NOW, [renewal()], []);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HostFileError);
    expect((err as HostFileError).file).toBe(runDir(paths, id));
    expect([text(key), text(crt)]).toEqual(['OLD KEY\n', 'OLD CERT\n']);
  });
});

describe('a malformed run id', () => {
  it('is refused with the form run ids take and where to find one', () => {
    expect(() => runDir(paths, '../x')).toThrowError(UsageError);
    try {
      runDir(paths, '../x');
    } catch (e) {
      expect((e as UsageError).hint).toBe('run ids look like 20261122T215356.123Z-1a2b3c; `kube-cert-renewer status` shows the last one');
    }
  });
});
