/**
 * Inventory records for the pure planner's unit tests: built by hand, so a test says exactly which dates, states and
 * problems an entry has. Dates are relative to a fixed clock (NOW).
 */
import { LEAVES, findCa, type CaName, type LeafEntry } from '../../src/catalog.js';
import type { CaRecord, Inventory, LeafRecord, ProblemCode, RecordState } from '../../src/inventory/records.js';
import type { CertFacts } from '../../src/pki/certificate.js';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
export const NOW = new Date('2026-11-22T12:00:00Z');
export const ago = (days: number): Date => new Date(NOW.getTime() - days * DAY);
export const ahead = (days: number): Date => new Date(NOW.getTime() + days * DAY);
export const at = (ms: number): Date => new Date(NOW.getTime() + ms);

export function entry(name: string): LeafEntry {
  const e = LEAVES.find((l) => l.name === name);
  if (!e) throw new Error(`no catalog entry ${name}`);
  return e;
}

/** Only the facts the planner reads. */
export function cert(notBefore: Date, notAfter: Date, serial = 'AB01'): CertFacts {
  return { notBefore, notAfter, serial } as CertFacts;
}

export interface CaOptions {
  name?: CaName;
  notBefore?: Date;
  notAfter?: Date;
  hasKey?: boolean;
  state?: RecordState;
  problems?: ProblemCode[];
}

export function caRecord(opts: CaOptions = {}): CaRecord {
  const state = opts.state ?? 'present';
  return {
    entry: findCa(opts.name ?? 'ca'),
    state,
    certPath: '/etc/kubernetes/pki/ca.crt',
    keyPath: '/etc/kubernetes/pki/ca.key',
    cert: state === 'present' ? cert(opts.notBefore ?? ago(1000), opts.notAfter ?? ahead(2650), 'CA01') : undefined,
    hasKey: opts.hasKey ?? true,
    problems: (opts.problems ?? []).map((code) => ({ code, file: '/etc/kubernetes/pki/ca.key', message: 'm', hint: 'h' })),
  };
}

export interface LeafOptions {
  state?: RecordState;
  problems?: ProblemCode[];
  rotatedByKubelet?: boolean;
  files?: string[];
}

export function leaf(name: string, c: CertFacts | undefined, opts: LeafOptions = {}): LeafRecord {
  return {
    entry: entry(name),
    state: opts.state ?? (c ? 'present' : 'missing'),
    certPath: `/etc/kubernetes/pki/${name}.crt`,
    files: opts.files ?? [`/etc/kubernetes/pki/${name}.crt`, `/etc/kubernetes/pki/${name}.key`],
    cert: c,
    rotatedByKubelet: opts.rotatedByKubelet ?? false,
    problems: (opts.problems ?? []).map((code) => ({ code, file: `/etc/kubernetes/pki/${name}.key`, message: 'm', hint: 'h' })),
  };
}

export function inventory(leaves: LeafRecord[], cas: CaRecord[] = [caRecord()]): Inventory {
  return { localEtcd: true, cas, leaves };
}
