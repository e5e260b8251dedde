/**
 * Which static pod manifests a run touches, and how: after `run`/`renew` (restart.verify false, so no kubelet is
 * needed), a manifest deep-equals its original except for the one restart annotation, and only for the components
 * the renewed entries belong to; nothing else ever appears in the manifests directory; a run that renews nothing
 * restarts nothing.
 */
import { existsSync, readFileSync, readdirSync, statSync, watch } from 'node:fs';
import { join, relative } from 'node:path';
import * as yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { runCli, runCliAsync } from './helpers/cli.js';
import { useFixtureCopies } from './helpers/host-trees.js';

const MANIFESTS = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml'];
const KEY = 'kube-cert-renewer/restartedAt';
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

const trees = useFixtureCopies({ issuedDaysAgo: 40 });
const tree = (config: string): string => trees.copy(config);

const manifestsDir = (root: string): string => join(root, 'etc/kubernetes/manifests');

interface DirState {
  names: string[];
  files: Map<string, { text: string; mode: number }>;
}

function readManifests(root: string): DirState {
  const dir = manifestsDir(root);
  const names = readdirSync(dir).sort(); // dot files included
  const files = new Map(names.map((n) => [n, { text: readFileSync(join(dir, n), 'utf8'), mode: statSync(join(dir, n)).mode & 0o7777 }]));
  return { names, files };
}

/** Every path under root whose name looks like one of our temporary files (dot-prefixed `.kcr-`). */
function temporaryLeftovers(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.name.includes('.kcr-')) out.push(relative(root, p));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

type Obj = Record<string, any>;

/**
 * `after` deep-equals `before` except for the restart annotation, whose value is an RFC 3339 time within the run;
 * and textually only lines were added (comments, order and quoting of everything else kept).
 */
function expectAnnotatedOnly(name: string, before: string, after: string, window: { from: number; to: number }, key = KEY): void {
  const b = yaml.load(before) as Obj;
  const a = yaml.load(after) as Obj;
  const value = a.metadata?.annotations?.[key];
  expect(value, `${name}: ${key}`).toMatch(RFC3339);
  const t = Date.parse(value as string);
  expect(t, `${name}: annotation time`).toBeGreaterThanOrEqual(Math.floor(window.from / 1000) * 1000);
  expect(t, `${name}: annotation time`).toBeLessThanOrEqual(window.to);
  delete a.metadata.annotations[key];
  if (b.metadata.annotations === undefined && Object.keys(a.metadata.annotations).length === 0) delete a.metadata.annotations;
  expect(a, `${name} deep-equals its original but for the annotation`).toStrictEqual(b);
  const beforeLines = before.split('\n');
  const added = after.split('\n').filter((l) => !beforeLines.includes(l));
  expect(after.split('\n').length - beforeLines.length, `${name}: only added lines`).toBe(added.length);
  expect(added.length).toBeGreaterThanOrEqual(1);
  expect(added.length).toBeLessThanOrEqual(2);
}

function runAndCheck(root: string, args: string[], affected: string[]): { stderr: string; after: DirState } {
  const before = readManifests(root);
  const from = Date.now();
  const r = runCli(['--root', root, ...args]);
  const to = Date.now();
  expect(r.code, r.stderr).toBe(0);
  const after = readManifests(root);
  expect(after.names, 'nothing appears in or vanishes from the manifests directory').toEqual(before.names);
  for (const name of before.names) {
    const b = before.files.get(name) as { text: string; mode: number };
    const a = after.files.get(name) as { text: string; mode: number };
    expect(a.mode.toString(8), `${name} mode`).toBe(b.mode.toString(8));
    if (affected.includes(name)) expectAnnotatedOnly(name, b.text, a.text, { from, to });
    else expect(a.text, `${name} is byte-identical`).toBe(b.text);
  }
  expect(temporaryLeftovers(root)).toEqual([]);
  return { stderr: r.stderr, after };
}

describe('restart annotation on static pod manifests', () => {
  it('the fixture has the four kubeadm manifests', () => {
    expect(readManifests(trees.base.root).names).toEqual(MANIFESTS);
  });

  it.each<[string, string[], string[]]>([
    ['etcd-server', ['etcd-server'], ['etcd.yaml']],
    ['etcd-peer', ['etcd-peer'], ['etcd.yaml']],
    ['etcd-healthcheck-client', ['etcd-healthcheck-client'], []],
    ['apiserver', ['apiserver'], ['kube-apiserver.yaml']],
    ['apiserver-kubelet-client', ['apiserver-kubelet-client'], ['kube-apiserver.yaml']],
    ['apiserver-etcd-client', ['apiserver-etcd-client'], ['kube-apiserver.yaml']],
    ['front-proxy-client', ['front-proxy-client'], ['kube-apiserver.yaml']],
    ['controller-manager.conf', ['controller-manager.conf'], ['kube-controller-manager.yaml']],
    ['scheduler.conf', ['scheduler.conf'], ['kube-scheduler.yaml']],
    ['admin.conf', ['admin.conf'], []],
    ['super-admin.conf', ['super-admin.conf'], []],
    ['etcd-server and scheduler.conf', ['etcd-server', 'scheduler.conf'], ['etcd.yaml', 'kube-scheduler.yaml']],
  ])('renew %s annotates exactly its components', (_, names, affected) => {
    const root = tree('restart:\n  verify: false\n');
    const { stderr } = runAndCheck(root, ['--log-format', 'json', 'renew', ...names], affected);
    const restarted = stderr.split('\n').filter((l) => l.includes('manifest annotated')).map((l) => (JSON.parse(l) as { manifest: string }).manifest.split('/').pop());
    expect(restarted.sort()).toEqual([...affected].sort());
    // the journal records the bounces, and claims no verification: restart.verify is false
    const backups = join(root, 'var/lib/kube-cert-renewer/backups');
    const [id] = readdirSync(backups);
    const journal = JSON.parse(readFileSync(join(backups, id as string, 'run.json'), 'utf8')) as { phase: string; restarted: string[]; verified: string[] };
    expect(journal.phase).toBe('done');
    expect(journal.restarted.map((c) => `${c}.yaml`).sort()).toEqual([...affected].sort());
    expect(journal.verified).toEqual([]);
  });

  it('`run` with everything due annotates all four manifests; a second run renews and restarts nothing', () => {
    const root = tree('renewInterval: 30d\nrestart:\n  verify: false\n');
    const { after } = runAndCheck(root, ['run'], MANIFESTS);
    const second = runCli(['--root', root, '--log-format', 'json', 'run']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/nothing to renew/);
    const again = readManifests(root);
    expect(again.names).toEqual(after.names);
    for (const name of MANIFESTS) expect(again.files.get(name)?.text, `${name} untouched`).toBe(after.files.get(name)?.text);
    expect(temporaryLeftovers(root)).toEqual([]);
  });

  it('while a run writes, every name that appears in the manifests directory is a manifest or dot-prefixed', async () => {
    const root = tree('renewInterval: 30d\nrestart:\n  verify: false\n');
    const seen = new Set<string>();
    const watcher = watch(manifestsDir(root), (_event, name) => {
      if (name) seen.add(name.toString());
    });
    try {
      const r = await runCliAsync(['--root', root, 'run']);
      expect(r.code, r.stderr).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 200)); // let the last events arrive
    } finally {
      watcher.close();
    }
    const transient = [...seen].filter((n) => !MANIFESTS.includes(n));
    expect(transient.length, 'the watcher saw the atomic writes').toBeGreaterThanOrEqual(1);
    for (const n of transient) expect(n, 'the kubelet ignores only dot files').toMatch(/^\./);
    expect(MANIFESTS.every((m) => seen.has(m))).toBe(true);
    expect(readManifests(root).names).toEqual(MANIFESTS);
  });

  it('a run that renews nothing leaves every manifest byte-identical', () => {
    const root = tree('restart:\n  verify: false\n'); // default policy: 40-day-old certificates are not due
    const before = readManifests(root);
    const r = runCli(['--root', root, '--log-format', 'json', 'run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/nothing to renew/);
    const after = readManifests(root);
    expect(after.names).toEqual(before.names);
    for (const name of MANIFESTS) expect(after.files.get(name)?.text, name).toBe(before.files.get(name)?.text);
  });

  it('uses restart.annotation, and kubeadm’s own annotations survive', () => {
    const root = tree('restart:\n  verify: false\n  annotation: example.com/bounced\n');
    const before = readManifests(root);
    const from = Date.now();
    const r = runCli(['--root', root, 'renew', 'etcd-server', 'apiserver']);
    expect(r.code, r.stderr).toBe(0);
    const after = readManifests(root);
    for (const name of ['etcd.yaml', 'kube-apiserver.yaml']) {
      expectAnnotatedOnly(name, before.files.get(name)?.text as string, after.files.get(name)?.text as string, { from, to: Date.now() }, 'example.com/bounced');
      expect(after.files.get(name)?.text).not.toContain(KEY);
    }
    const etcd = yaml.load(after.files.get('etcd.yaml')?.text as string) as Obj;
    const apiserver = yaml.load(after.files.get('kube-apiserver.yaml')?.text as string) as Obj;
    expect(etcd.metadata.annotations['kubeadm.kubernetes.io/etcd.advertise-client-urls']).toBe('https://127.0.0.1:2379');
    expect(apiserver.metadata.annotations['kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint']).toBe('127.0.0.1:6443');
  });

  it('every bounce changes the manifest, even several within one second (renew, rollback, renew)', () => {
    const root = tree('restart:\n  verify: false\n');
    const etcd = (): string => readFileSync(join(manifestsDir(root), 'etcd.yaml'), 'utf8');
    const seen = [etcd()];
    // libfaketime freezes the wall clock at one second for all three commands (timers keep the real monotonic clock)
    expect(existsSync(LIBFAKETIME), `${LIBFAKETIME} (Debian package libfaketime)`).toBe(true);
    const frozen = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
    const env = { LD_PRELOAD: LIBFAKETIME, FAKETIME: frozen, FAKETIME_DONT_FAKE_MONOTONIC: '1', TZ: 'UTC' };
    for (const args of [['renew', 'etcd-server'], ['rollback'], ['renew', 'etcd-server']]) {
      const r = runCli(['--root', root, ...args], env);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      const text = etcd();
      expect(seen, `${args.join(' ')} changed etcd.yaml`).not.toContain(text);
      seen.push(text);
      const annotations = (yaml.load(text) as Obj).metadata.annotations as Record<string, string>;
      expect(Object.keys(annotations).sort()).toEqual([KEY, 'kubeadm.kubernetes.io/etcd.advertise-client-urls']);
    }
    expect(readManifests(root).names).toEqual(MANIFESTS);
    expect(temporaryLeftovers(root)).toEqual([]);
  });
});
