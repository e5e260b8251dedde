/**
 * The status report: a plain, versioned object (apiVersion/kind) built from inventory, decisions and state. The
 * table and JSON printers render it; the JSON is a contract for Ansible and monitoring (README: "status -o json").
 */
import { hostname } from 'node:os';
import type { Component } from '../catalog.js';
import type { Config } from '../config/config.js';
import { formatDuration } from '../config/duration.js';
import { type CaRecord, type Inventory, type LeafRecord, type Problem, isAdvisory } from '../inventory/records.js';
import { commonName, nameText } from '../pki/certificate.js';
import type { Blocker, Decision, DueReason, IssuedAtSource } from '../plan/policy.js';
import type { EntryRenewal, PendingRestart, State } from '../apply/state.js';
import { hostPathOf, hostText } from '../host/paths.js';
import { CA_ROTATION_HINT } from './ca-expiry.js';

export const STATUS_API_VERSION = 'kube-cert-renewer.io/v1alpha1';
export const STATUS_KIND = 'CertificateStatus';

export interface ProblemReport extends Problem {
  entry: string;
}

export interface KeyReport {
  algorithm: string;
  bits: number;
  curve?: string;
  encoding?: string;
  matchesCertificate?: boolean;
}

export interface CertificateReport {
  name: string;
  kind: 'pki' | 'kubeconfig';
  state: LeafRecord['state'];
  path: string;
  files: string[];
  optional: boolean;
  certificateAuthority: string;
  externallyManaged: boolean;
  managedBy: 'kube-cert-renewer' | 'kubelet' | 'external-ca' | 'none';
  subject?: string;
  issuer?: string;
  /** The kubeconfig user whose client certificate this is (kubeconfig entries). */
  kubeconfigUser?: string;
  commonName?: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  keyUsage?: string[];
  extKeyUsage?: string[];
  serial?: string;
  notBefore?: string;
  notAfter?: string;
  residualSeconds?: number;
  expired?: boolean;
  issuedAt?: string;
  issuedAtSource?: IssuedAtSource;
  key?: KeyReport;
  signedByCA?: boolean;
  due: boolean;
  reasons: DueReason[];
  renewable: boolean;
  blocker?: Blocker;
  why: string;
  restarts: Component[];
  lastRenewal?: EntryRenewal;
  problems: Problem[];
}

export interface CaReport {
  name: string;
  state: CaRecord['state'];
  path: string;
  externallyManaged: boolean;
  subject?: string;
  issuer?: string;
  serial?: string;
  notBefore?: string;
  notAfter?: string;
  residualSeconds?: number;
  expired?: boolean;
  /** Expires within renewBefore: the leaves it signs cannot be renewed past its expiry; rotate it by hand. */
  expiring?: boolean;
  key?: KeyReport;
  problems: Problem[];
}

export interface TimerReport {
  unit: string;
  activeState?: string;
  lastTriggerAt?: string;
  nextElapseAt?: string;
}

export interface StatusReport {
  apiVersion: typeof STATUS_API_VERSION;
  kind: typeof STATUS_KIND;
  generatedAt: string;
  host: { hostname: string; root: string };
  policy: { mode: string; renewInterval: string; renewBefore: string; validity: string };
  restart: { enabled: boolean; verify: boolean; verifyTimeout: string; annotation: string };
  /** Components that still run certificates older than the files on disk (renewed while restart.enabled was false). */
  pendingRestarts: PendingRestart[];
  topology: { localEtcd: boolean };
  timer?: TimerReport;
  lastRun?: State['lastRun'];
  certificates: CertificateReport[];
  certificateAuthorities: CaReport[];
  summary: { certificates: number; due: number; renewable: number; expired: number; problems: number; healthy: boolean };
  problems: ProblemReport[];
}

const iso = (d: Date | undefined): string | undefined => d?.toISOString().replace(/\.\d{3}Z$/, 'Z');

const DAY = 86_400_000;

/** The problem a CA that expires within renewBefore carries: it makes status unhealthy and names what to do. */
function caExpiringProblem(ca: CaRecord, root: string, now: Date, renewBefore: number): Problem | undefined {
  const end = ca.cert?.notAfter.getTime();
  if (end === undefined || renewBefore <= 0) return undefined;
  const left = end - now.getTime();
  if (left <= 0 || left >= renewBefore) return undefined;
  return {
    code: 'ca-expiring',
    file: hostPathOf(root, ca.certPath),
    message: `CA ${ca.entry.name} expires on ${iso(ca.cert?.notAfter)} (in ${Math.floor(left / DAY)} days, within renewBefore ${formatDuration(renewBefore)}); `
      + 'certificates it signs cannot be renewed past that date',
    hint: CA_ROTATION_HINT,
  };
}

function hostProblems(problems: Problem[], root: string): Problem[] {
  return problems.map((p) => ({ ...p, file: hostPathOf(root, p.file), message: hostText(root, p.message), hint: hostText(root, p.hint) }));
}

function caReport(ca: CaRecord, now: Date, root: string, renewBefore: number): CaReport {
  const expiring = caExpiringProblem(ca, root, now, renewBefore);
  const r: CaReport = {
    name: ca.entry.name,
    state: ca.state,
    path: hostPathOf(root, ca.certPath),
    externallyManaged: ca.state === 'present' && !ca.hasKey && ca.problems.length === 0,
    problems: [...hostProblems(ca.problems, root), ...(expiring ? [expiring] : [])],
  };
  if (ca.cert) {
    Object.assign(r, {
      subject: nameText(ca.cert.subject),
      issuer: nameText(ca.cert.issuer),
      expiring: expiring !== undefined,
      serial: ca.cert.serial,
      notBefore: iso(ca.cert.notBefore),
      notAfter: iso(ca.cert.notAfter),
      residualSeconds: Math.floor((ca.cert.notAfter.getTime() - now.getTime()) / 1000),
      expired: ca.cert.notAfter.getTime() <= now.getTime(),
      key: { algorithm: ca.cert.publicKey.algorithm, bits: ca.cert.publicKey.bits, ...(ca.cert.publicKey.curve ? { curve: ca.cert.publicKey.curve } : {}) },
    });
  }
  return r;
}

function certificateReport(leaf: LeafRecord, d: Decision, state: State, now: Date, root: string): CertificateReport {
  const externallyManaged = d.blocker === 'external-ca';
  const r: CertificateReport = {
    name: leaf.entry.name,
    kind: leaf.entry.kind,
    state: leaf.state,
    path: hostPathOf(root, leaf.certPath),
    files: leaf.files.map((f) => hostPathOf(root, f)),
    optional: leaf.entry.optional,
    certificateAuthority: leaf.entry.ca,
    externallyManaged,
    managedBy: leaf.state !== 'present' ? 'none' : leaf.rotatedByKubelet ? 'kubelet' : externallyManaged ? 'external-ca' : 'kube-cert-renewer',
    due: d.due,
    reasons: d.reasons,
    renewable: d.renew,
    why: d.why,
    restarts: leaf.rotatedByKubelet ? [] : [...leaf.entry.restarts],
    problems: hostProblems(leaf.problems, root),
  };
  if (leaf.document?.kind === 'kubeconfig') r.kubeconfigUser = leaf.document.userName;
  if (d.blocker) r.blocker = d.blocker;
  const c = leaf.cert;
  if (c) {
    Object.assign(r, {
      subject: nameText(c.subject),
      issuer: nameText(c.issuer),
      commonName: commonName(c.subject),
      organizations: c.subject.filter((a) => a.type === 'O').map((a) => a.value),
      dnsNames: c.dnsNames,
      ipAddresses: c.ipAddresses,
      keyUsage: c.keyUsage,
      extKeyUsage: c.extKeyUsage,
      serial: c.serial,
      notBefore: iso(c.notBefore),
      notAfter: iso(c.notAfter),
      residualSeconds: Math.floor((c.notAfter.getTime() - now.getTime()) / 1000),
      expired: c.notAfter.getTime() <= now.getTime(),
      issuedAt: iso(d.issuedAt),
      issuedAtSource: d.issuedAtSource,
      key: {
        algorithm: c.publicKey.algorithm,
        bits: c.publicKey.bits,
        ...(c.publicKey.curve ? { curve: c.publicKey.curve } : {}),
        ...(leaf.keyEncoding ? { encoding: leaf.keyEncoding } : {}),
        ...(leaf.keyMatches !== undefined ? { matchesCertificate: leaf.keyMatches } : {}),
      },
    });
    if (leaf.signedByCA !== undefined) r.signedByCA = leaf.signedByCA;
  }
  const memory = state.entries[leaf.entry.name];
  if (memory) r.lastRenewal = memory;
  return r;
}

export function buildStatusReport(args: {
  inventory: Inventory;
  /** One per inventory leaf, from plan/decide.ts. */
  decisions: Decision[];
  config: Config;
  state: State;
  now: Date;
  root: string;
  timer?: TimerReport;
}): StatusReport {
  const { inventory, decisions, config, state, now } = args;
  const applicable = inventory.leaves.map((leaf, i) => ({ leaf, d: decisions[i] as Decision })).filter((x) => x.leaf.state !== 'not-applicable');
  const certificates = applicable.map(({ leaf, d }) => certificateReport(leaf, d, state, now, args.root));
  const certificateAuthorities = inventory.cas.filter((c) => c.state !== 'not-applicable').map((c) => caReport(c, now, args.root, config.renewBefore));
  const problems: ProblemReport[] = [
    ...certificateAuthorities.flatMap((c) => c.problems.map((p) => ({ entry: c.name, ...p }))),
    ...certificates.flatMap((c) => c.problems.map((p) => ({ entry: c.name, ...p }))),
  ];
  const expired = certificates.filter((c) => c.expired).length + certificateAuthorities.filter((c) => c.expired).length;
  const report: StatusReport = {
    apiVersion: STATUS_API_VERSION,
    kind: STATUS_KIND,
    generatedAt: iso(now) ?? '',
    host: { hostname: hostname(), root: args.root },
    policy: {
      mode: config.mode,
      renewInterval: formatDuration(config.renewInterval),
      renewBefore: formatDuration(config.renewBefore),
      validity: formatDuration(config.validity),
    },
    restart: {
      enabled: config.restart.enabled,
      verify: config.restart.verify,
      verifyTimeout: formatDuration(config.restart.verifyTimeout),
      annotation: config.restart.annotation,
    },
    pendingRestarts: state.pendingRestarts ?? [],
    topology: { localEtcd: inventory.localEtcd },
    certificates,
    certificateAuthorities,
    summary: {
      certificates: certificates.filter((c) => c.state !== 'missing' || !c.optional).length,
      due: certificates.filter((c) => c.due).length,
      renewable: certificates.filter((c) => c.renewable).length,
      expired,
      problems: problems.length,
      healthy: expired === 0 && problems.every(isAdvisory),
    },
    problems,
  };
  if (args.timer) report.timer = args.timer;
  if (state.lastRun) report.lastRun = state.lastRun;
  return report;
}
