/**
 * Crash-test checks: after a process was killed and the next run finished, does the tree converge? Every check is
 * made with openssl and by reading the files the product wrote (journals, state, manifests, `history -o json`),
 * and returns a list of problems (empty: converged) so random trials can count the converged fraction.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as yaml from 'js-yaml';
import { extractKubeconfigCredentials, type Fixture } from './kubeadm-fixture.js';
import { keyMatchesCert, readCert, verifyChain } from './openssl.js';
import { runCli } from './cli.js';
import { assertMatchesSchema } from './schemas.js';

export const STATE_DIR = 'var/lib/kube-cert-renewer';
export const ANNOTATION = 'kube-cert-renewer/restartedAt';
export const STATIC_PODS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

/** Every renewable leaf of a default stacked-etcd fixture (kubelet.conf is the kubelet's own). */
export const RENEWABLE = [
  'admin.conf', 'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'controller-manager.conf',
  'etcd-healthcheck-client', 'etcd-peer', 'etcd-server', 'front-proxy-client', 'scheduler.conf', 'super-admin.conf',
];

export interface Pem {
  cert: string;
  key: string;
  ca: string;
}

/** An entry's certificate and key (PEM text) and its CA's certificate file, in the tree at `root`. */
export function pemOf(base: Fixture, root: string, name: string): Pem {
  const e = base.entry(name);
  const at = (p: string): string => join(root, relative(base.root, p));
  const ca = at(base.entry(e.caName ?? 'ca').certPath);
  if (e.kind === 'kubeconfig') {
    const c = extractKubeconfigCredentials(at(e.kubeconfigPath ?? e.certPath), root);
    return { cert: c.certPem, key: c.keyPem, ca };
  }
  return { cert: readFileSync(at(e.certPath), 'utf8'), key: readFileSync(at(e.keyPath as string), 'utf8'), ca };
}

export function serialsOf(base: Fixture, root: string, names = RENEWABLE): Map<string, string> {
  return new Map(names.map((n) => [n, readCert(pemOf(base, root, n).cert).serial]));
}

/** Every path under `dir` whose name is one of our temporaries (`.<name>.kcr-…`), and every staging dir left. */
export function leftovers(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (/\.kcr-/.test(e.name)) out.push(p);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

interface JournalJson {
  id: string;
  phase: string;
  startedAt: string;
  completedBy?: string;
  discarded?: string;
  entries: Array<{ name: string; oldSerial: string; newSerial: string }>;
}

export function journalsOf(root: string): JournalJson[] {
  const dir = join(root, STATE_DIR, 'backups');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().filter((id) => existsSync(join(dir, id, 'run.json')))
    .map((id) => JSON.parse(readFileSync(join(dir, id, 'run.json'), 'utf8')) as JournalJson);
}

function pairProblems(base: Fixture, root: string, before: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const name of RENEWABLE) {
    const p = pemOf(base, root, name);
    if (!keyMatchesCert(p.cert, p.key)) problems.push(`${name}: key does not match certificate`);
    const v = verifyChain(p.ca, p.cert, { ignoreTime: true });
    if (!v.ok) problems.push(`${name}: does not verify against its CA: ${v.output}`);
    if (readCert(p.cert).serial === before.get(name)) problems.push(`${name}: not renewed`);
  }
  return problems;
}

/** Each entry renewed exactly once: one finished journal names it, with the serial on disk; the state agrees. */
function recordProblems(base: Fixture, root: string): string[] {
  const problems: string[] = [];
  const journals = journalsOf(root);
  const state = JSON.parse(readFileSync(join(root, STATE_DIR, 'state.json'), 'utf8')) as {
    entries: Record<string, { runId: string; newSerial: string }>; renewalsTotal: Record<string, number>;
  };
  for (const j of journals) {
    if (!['done', 'failed', 'rolled-back'].includes(j.phase)) problems.push(`journal ${j.id} left ${j.phase}`);
    if (existsSync(join(root, STATE_DIR, 'backups', j.id, 'new'))) problems.push(`journal ${j.id} (${j.phase}) kept new/`);
  }
  for (const name of RENEWABLE) {
    const serial = readCert(pemOf(base, root, name).cert).serial;
    const renewing = journals.filter((j) => j.phase === 'done' && j.entries.some((e) => e.name === name));
    if (renewing.length !== 1) problems.push(`${name}: ${renewing.length} finished runs renewed it`);
    const e = renewing[0]?.entries.find((x) => x.name === name);
    if (e && e.newSerial !== serial) problems.push(`${name}: journal says serial ${e.newSerial}, disk has ${serial}`);
    if (state.renewalsTotal[name] !== 1) problems.push(`${name}: renewalsTotal ${state.renewalsTotal[name]}`);
    if (state.entries[name]?.newSerial !== serial) problems.push(`${name}: state says ${state.entries[name]?.newSerial}, disk has ${serial}`);
    if (renewing[0] && state.entries[name]?.runId !== renewing[0].id) problems.push(`${name}: state records run ${state.entries[name]?.runId}, not ${renewing[0].id}`);
  }
  return problems;
}

/** Every static pod was bounced after the certificates it uses were written. */
function restartProblems(root: string): string[] {
  const done = journalsOf(root).filter((j) => j.phase === 'done');
  const latest = Math.max(...done.map((j) => Math.floor(Date.parse(j.startedAt) / 1000) * 1000));
  return STATIC_PODS.flatMap((pod) => {
    const doc = yaml.load(readFileSync(join(root, 'etc/kubernetes/manifests', `${pod}.yaml`), 'utf8')) as { metadata?: { annotations?: Record<string, string> } };
    const at = doc.metadata?.annotations?.[ANNOTATION];
    if (!at) return [`${pod}: never restarted`];
    return Date.parse(at) < latest ? [`${pod}: restarted at ${at}, before the renewal it needs`] : [];
  });
}

function historyProblems(root: string): string[] {
  const r = runCli(['--root', root, 'history', '-o', 'json']);
  if (r.code !== 0) return [`history exit ${r.code}: ${r.stderr}`];
  const report = JSON.parse(r.stdout) as { runs: Array<{ id: string; outcome: string; completedBy?: string }> };
  assertMatchesSchema('history', report);
  return journalsOf(root).flatMap((j) => {
    const run = report.runs.find((x) => x.id === j.id);
    if (!run) return [`history misses ${j.id}`];
    if (j.completedBy && (run.outcome !== 'interrupted' || run.completedBy !== j.completedBy) && !j.discarded) {
      return [`history shows interrupted ${j.id} as ${run.outcome}`];
    }
    return [];
  });
}

/** Everything that must hold once a crashed tree was run again; [] when it converged. */
export function convergenceProblems(base: Fixture, root: string, before: Map<string, string>): string[] {
  const temps = [...leftovers(join(root, 'etc/kubernetes')), ...leftovers(join(root, STATE_DIR))];
  return [
    ...temps.map((t) => `left behind: ${relative(root, t)}`),
    ...pairProblems(base, root, before),
    ...recordProblems(base, root),
    ...restartProblems(root),
    ...historyProblems(root),
  ];
}
