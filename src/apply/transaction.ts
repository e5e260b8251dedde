/**
 * The write transaction of one run, journaled under /var/lib/kube-cert-renewer/backups/<run-id>/:
 *
 *   old/<host path>   every file the run replaces, as it was (0600, the journal keeps mode and owner)
 *   new/<host path>   every new file, staged before anything on the host changes (removed once committed)
 *   run.json          the journal: entries, files, phase
 *
 * Phases: prepared → committed → (restart: restarting → verified | rolling-back → rolled-back) → done. A run that
 * dies after `prepared` is rolled forward by the next run from new/ (once its staged files check out), so a
 * certificate and its key are never left mismatched; one that dies while rolling back is rolled back to the end.
 * The journal names files by host path (relative to --root), so a tree moved or restored elsewhere is rolled back
 * or forward where it is now. Backups never go near the manifests directory.
 */
import { randomBytes } from 'node:crypto';
import {
  chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Component } from '../catalog.js';
import { HostFileError, UsageError } from '../errors.js';
import { hostWriteError, writeFileAtomic } from '../host/atomic.js';
import { readBoundedText } from '../host/read.js';
import { type HostPaths, hostPathOf, underRoot } from '../host/paths.js';
import type { PreparedRenewal } from './prepare.js';
import type { EntryRenewal } from './state.js';
import { faultPoint } from '../host/faults.js';

export const JOURNAL_API_VERSION = 'kube-cert-renewer.io/v1alpha1';

export type Phase = 'prepared' | 'committed' | 'restarting' | 'verified' | 'rolling-back' | 'rolled-back' | 'done' | 'failed';

export interface JournalFile {
  /** Path on this filesystem when the run was made: read from journals written before host paths were enough. */
  path?: string;
  /** The file as the host sees it; under --root it is <root><hostPath>. */
  hostPath: string;
  /** Mode of the file being replaced (restored on rollback) and of the new file. */
  mode: number;
  newMode: number;
  uid: number;
  gid: number;
  /** Relative to the run directory. */
  backup: string;
  /** The file did not exist before the run (a forced renewal repairing a lost key): rollback removes it. */
  absent?: boolean;
  staged: string;
}

export interface JournalEntry {
  name: string;
  oldSerial: string;
  newSerial: string;
  oldNotAfter: string;
  newNotAfter: string;
  files: JournalFile[];
  /** The state's record of the renewal that issued the certificate this run replaces, restored on rollback. */
  previousRenewal?: EntryRenewal;
}

export interface Journal {
  apiVersion: string;
  kind: 'RenewalRun';
  id: string;
  command: string;
  startedAt: string;
  phase: Phase;
  entries: JournalEntry[];
  restarts: Component[];
  restarted: Component[];
  verified: Component[];
  error?: string;
  /** Per component: reloaded by itself or restarted, and why (restart.mode, components.ts). */
  actions?: Array<{ component: Component; action: 'reload' | 'restart'; why: string }>;
  /** The run that finished this one after it was interrupted (rolled forward, restarted or rolled back). */
  completedBy?: string;
  /** Why an interrupted run was not rolled forward (its staged files were damaged); its backups were restored. */
  discarded?: string;
  /** When `rollback` restored this run's backups (an automatic rollback sets the phase and `error` only). */
  rolledBackAt?: string;
}

/** Where a journaled file is on this filesystem now. */
export function fsPathOf(paths: HostPaths, f: JournalFile): string {
  return f.hostPath ? underRoot(paths.root, f.hostPath) : (f.path as string);
}

/** Run ids sort by time to the millisecond (`20261122T215356.123Z-1a2b3c`), so "the last run" is the last id. */
export function newRunId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The one form of a run id (newRunId's): anything else on the command line or in the backups directory is refused. */
export const RUN_ID = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}$/;

export function isRunId(id: string): boolean {
  return RUN_ID.test(id);
}

/** The run's directory under backups/; a malformed id (`../../x`) is a usage error, before any path is built. */
export function runDir(paths: HostPaths, id: string): string {
  assertRunId(id);
  return join(paths.backups, id);
}

export function assertRunId(id: string): void {
  if (!isRunId(id)) {
    throw new UsageError(`${JSON.stringify(id)} is not a run id`, 'run ids look like 20261122T215356.123Z-1a2b3c; `kube-cert-renewer status` shows the last one');
  }
}

export function writeJournal(paths: HostPaths, journal: Journal): void {
  writeFileAtomic(join(runDir(paths, journal.id), 'run.json'), `${JSON.stringify(journal, null, 2)}\n`, 0o600);
  faultPoint('journal');
}

/**
 * The journal of run `id`: undefined when the run has none; a HostFileError naming run.json when it cannot be
 * read or is not a journal of run `id`.
 */
export function readJournal(paths: HostPaths, id: string): Journal | undefined {
  const file = join(runDir(paths, id), 'run.json');
  let text: string;
  try {
    text = readBoundedText(file, 'journal');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    if (err instanceof HostFileError) throw err;
    throw new HostFileError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'check its permissions');
  }
  const damaged = (why: string): never => {
    throw new HostFileError(file, `is damaged (${why})`, `this run's journal is lost: check the files it names by hand, then remove ${dirname(file)}`);
  };
  let j: Journal;
  try {
    j = JSON.parse(text) as Journal;
  } catch (err) {
    return damaged((err as Error).message);
  }
  if (j === null || typeof j !== 'object' || j.kind !== 'RenewalRun') return damaged('not a RenewalRun journal');
  if (j.id !== id || !Array.isArray(j.entries)) return damaged(j.id !== id ? `it names run ${JSON.stringify(j.id)}` : 'no entries');
  return j;
}

/**
 * Every journaled run, oldest first (run ids sort by time). Directories that are not runs are skipped; a damaged
 * journal is skipped and passed to `onDamaged` (the caller logs it).
 */
export function listRuns(paths: HostPaths, onDamaged: (err: HostFileError) => void = () => undefined): Journal[] {
  let ids: string[];
  try {
    ids = readdirSync(paths.backups).filter(isRunId).sort();
  } catch {
    return [];
  }
  const runs: Journal[] = [];
  for (const id of ids) {
    try {
      const j = readJournal(paths, id);
      if (j) runs.push(j);
    } catch (err) {
      if (!(err instanceof HostFileError)) throw err;
      onDamaged(err);
    }
  }
  return runs;
}

function mkdirPrivate(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw hostWriteError(dir, err);
  }
}

/** Backups and staged files hold keys: 0600 in 0700 directories, fsynced before the journal points at them. */
function writePrivate(file: string, content: string | Buffer): void {
  writeFileAtomic(file, content, 0o600, { keepOwner: false, mkdirMode: 0o700 });
}

/**
 * Back up every file the renewals replace and stage every new file, then journal `prepared`. Until this returns,
 * nothing on the host has changed.
 */
export function stageRun(
  paths: HostPaths, id: string, command: string, now: Date, renewals: PreparedRenewal[], restarts: Component[],
  previous: Readonly<Record<string, EntryRenewal>> = {},
): Journal {
  const dir = runDir(paths, id);
  mkdirPrivate(dir);
  const entries: JournalEntry[] = renewals.map((r) => ({
    name: r.item.name,
    oldSerial: r.item.oldSerial,
    newSerial: r.newSerial,
    oldNotAfter: r.item.oldNotAfter.toISOString(),
    newNotAfter: r.newNotAfter.toISOString(),
    files: r.writes.map((w) => {
      const hostPath = hostPathOf(paths.root, w.path);
      const st = statSync(w.path, { throwIfNoEntry: false });
      const file: JournalFile = {
        hostPath, mode: st ? st.mode & 0o7777 : w.mode, newMode: w.mode,
        uid: st?.uid ?? process.getuid?.() ?? 0, gid: st?.gid ?? process.getgid?.() ?? 0,
        backup: join('old', hostPath), staged: join('new', hostPath),
      };
      if (st) writePrivate(join(dir, file.backup), readFileSync(w.path));
      else file.absent = true;
      writePrivate(join(dir, file.staged), w.content);
      faultPoint('stage');
      return file;
    }),
    ...(previous[r.item.name] ? { previousRenewal: previous[r.item.name] } : {}),
  }));
  const journal: Journal = {
    apiVersion: JOURNAL_API_VERSION, kind: 'RenewalRun', id, command, startedAt: now.toISOString(), phase: 'prepared',
    entries, restarts, restarted: [], verified: [],
  };
  writeJournal(paths, journal);
  return journal;
}

/** Put every staged file in place (atomically, keeping owners), then journal `committed`. Safe to repeat. */
export function commitRun(paths: HostPaths, journal: Journal): void {
  const dir = runDir(paths, journal.id);
  for (const entry of journal.entries) {
    for (const f of entry.files) {
      writeFileAtomic(fsPathOf(paths, f), readFileSync(join(dir, f.staged)), f.newMode);
      faultPoint('after-write');
    }
  }
  journal.phase = 'committed';
  writeJournal(paths, journal);
  rmSync(join(dir, 'new'), { recursive: true, force: true });
}

/**
 * Put every backed-up file back as it was (bytes, mode, owner). The journal says `rolling-back` first, so a process
 * killed half-way is finished by the next run instead of leaving some files new and some old. Safe to repeat.
 */
export function restoreRun(paths: HostPaths, journal: Journal): void {
  if (journal.phase !== 'rolling-back') {
    journal.phase = 'rolling-back';
    writeJournal(paths, journal);
  }
  const dir = runDir(paths, journal.id);
  for (const entry of journal.entries) {
    for (const f of entry.files) {
      const target = fsPathOf(paths, f);
      if (f.absent) {
        rmSync(target, { force: true });
        continue;
      }
      writeFileAtomic(target, readFileSync(join(dir, f.backup)), f.mode, { keepOwner: false });
      try {
        chownSync(target, f.uid, f.gid);
      } catch {
        // not root: the file keeps our owner
      }
      faultPoint('restore');
    }
  }
}

/** Mark a run finished: its staged copies go first (a finished run keeps no new/), then the journal says so. */
export function closeRun(paths: HostPaths, journal: Journal, phase: 'done' | 'rolled-back' | 'failed'): void {
  rmSync(join(runDir(paths, journal.id), 'new'), { recursive: true, force: true });
  journal.phase = phase;
  writeJournal(paths, journal);
}

/** Runs that died after staging and before committing: rolled forward once their staged files check out. */
export function interruptedRuns(paths: HostPaths): Journal[] {
  return listRuns(paths).filter((j) => j.phase === 'prepared' && existsSync(join(runDir(paths, j.id), 'new')));
}

/** Run directories of our id format without a journal: staging died before `prepared`; the host was not touched. */
export function orphanRunDirs(paths: HostPaths): string[] {
  try {
    return readdirSync(paths.backups)
      .filter((id) => RUN_ID.test(id) && !existsSync(join(runDir(paths, id), 'run.json')))
      .map((id) => runDir(paths, id));
  } catch {
    return [];
  }
}

const FINISHED: ReadonlySet<Phase> = new Set(['done', 'rolled-back', 'failed']);

/**
 * Keep the newest `keep` runs and remove the older ones, oldest first. A run directory without a journal (a process
 * killed while staging: it holds copies of old private keys and will never be finished) counts as a run and goes
 * like any other; a journaled run that is not finished is never removed.
 */
export function pruneRuns(paths: HostPaths, keep: number): string[] {
  let ids: string[];
  try {
    // Only run directories: anything else (lost+found on a backups filesystem of its own) is not a run, and runDir
    // refuses its name.
    ids = readdirSync(paths.backups).filter((id) => isRunId(id) && statSync(runDir(paths, id), { throwIfNoEntry: false })?.isDirectory()).sort();
  } catch {
    return [];
  }
  const removable = ids.filter((id) => {
    if (!existsSync(join(runDir(paths, id), 'run.json'))) return true;
    const j = readJournal(paths, id);
    return j === undefined || FINISHED.has(j.phase);
  });
  const excess = Math.max(0, ids.length - keep);
  const drop = removable.slice(0, excess);
  for (const id of drop) {
    rmSync(runDir(paths, id), { recursive: true, force: true });
    faultPoint('prune');
  }
  return drop;
}
