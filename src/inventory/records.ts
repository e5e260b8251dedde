/** What the inventory knows about each catalog entry on this host. Plain data; printers and the planner read it. */
import type { CaEntry, LeafEntry } from '../catalog.js';
import type { CertFacts } from '../pki/certificate.js';
import type { KeyEncoding } from '../pki/pem.js';
import type { CredentialDocument } from './documents.js';

export type ProblemCode =
  | 'missing'
  | 'unreadable'
  | 'key-unreadable'
  | 'key-mismatch'
  | 'not-signed-by-ca'
  | 'ca-unavailable'
  | 'kubeconfig-invalid'
  | 'referenced-file-missing'
  | 'identity-differs'
  /** A CA that expires within renewBefore (set by the status report, not the reader). */
  | 'ca-expiring';

/**
 * Problems that are reported but neither block a renewal nor fail a run or `status`: renewal copies a certificate's
 * identity as it is, so one that differs from kubeadm's is the operator's to judge, not a reason to let it expire.
 */
export const ADVISORY_PROBLEMS: ReadonlySet<ProblemCode> = new Set(['identity-differs']);

export function isAdvisory(problem: { code: ProblemCode }): boolean {
  return ADVISORY_PROBLEMS.has(problem.code);
}

export interface Problem {
  code: ProblemCode;
  /** The file at fault, as a path on this filesystem. */
  file: string;
  message: string;
  hint: string;
}

/**
 * - present: the certificate was read (it may still carry problems, e.g. a key that does not match).
 * - missing: no file; for optional entries that is a normal topology.
 * - not-applicable: this topology has no such entry (external etcd).
 * - unreadable: the file exists but its certificate could not be read.
 */
export type RecordState = 'present' | 'missing' | 'not-applicable' | 'unreadable';

export interface CaRecord {
  entry: CaEntry;
  state: RecordState;
  certPath: string;
  keyPath: string;
  cert?: CertFacts;
  /** ca.key present: this node can sign. Without it the CA is externally managed. */
  hasKey: boolean;
  problems: Problem[];
}

export interface LeafRecord {
  entry: LeafEntry;
  state: RecordState;
  /** The file holding the certificate (the kubeconfig itself for embedded data). */
  certPath: string;
  /** Every file a renewal of this entry rewrites. */
  files: string[];
  cert?: CertFacts;
  keyEncoding?: KeyEncoding;
  keyMatches?: boolean;
  signedByCA?: boolean;
  /** The kubelet rotates kubelet.conf's certificate when the kubeconfig references a file: never ours to renew. */
  rotatedByKubelet: boolean;
  problems: Problem[];
  /** Holds key material: never serialised, never logged. */
  document?: CredentialDocument;
}

export interface Inventory {
  /** Stacked etcd on this node (kubeadm's default), rather than external etcd. */
  localEtcd: boolean;
  cas: CaRecord[];
  leaves: LeafRecord[];
}
