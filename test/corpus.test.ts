/**
 * The bad-input corpus (test/corpus/<kind>/<case>, written by test/corpus/generate.py): each file is put where its
 * kind lives in a kubeadm tree, the built CLI is run on it, and each case is checked for a clear message naming
 * the file, the right exit code, nothing else in the tree changed (sha256 of every file), and no private-key bytes
 * in stdout or stderr. Every corpus file must have a kind below, so none is silently skipped.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { expectNoKeyBytes, expectSameTree, privateKeyFragments, treeDigest } from './helpers/hostile.js';
import { CONFIG_HEADER, useFixtureCopies } from './helpers/host-trees.js';

const CORPUS = join(__dirname, 'corpus');
const STATE = 'var/lib/kube-cert-renewer';
const RUN_ID = '20261122T215356.123Z-1a2b3c';
const NO_RESTART = 'restart:\n  enabled: false\n';

interface Kind {
  /** where the file goes in the tree (undefined: the file holds a command-line argument) */
  dest?: string;
  config?: string;
  args: (corpusText: string) => string[];
  code: number;
  /** what the message must name, besides the case's own pattern */
  names: (root: string, corpusText: string) => string;
  /** paths the command may legitimately change */
  mayChange?: (rel: string) => boolean;
  /** the case file is old (a lock left by a run that died) */
  aged?: boolean;
  setup?: (root: string) => void;
}

const KINDS: Record<string, Kind> = {
  pem: { dest: 'etc/kubernetes/pki/apiserver.crt', args: () => ['status'], code: 1, names: () => '/etc/kubernetes/pki/apiserver.crt' }, // reports name host paths
  der: { dest: 'etc/kubernetes/pki/apiserver.crt', args: () => ['status'], code: 1, names: () => '/etc/kubernetes/pki/apiserver.crt' }, // reports name host paths
  key: { dest: 'etc/kubernetes/pki/apiserver.key', args: () => ['status'], code: 1, names: () => '/etc/kubernetes/pki/apiserver.key' },
  kubeconfig: { dest: 'etc/kubernetes/admin.conf', args: () => ['status'], code: 1, names: () => '/etc/kubernetes/admin.conf' },
  config: { dest: 'etc/kube-cert-renewer/config.yaml', args: () => ['status'], code: 2, names: (r) => join(r, 'etc/kube-cert-renewer/config.yaml') },
  state: { dest: `${STATE}/state.json`, args: () => ['status'], code: 0, names: () => `/${STATE}/state.json` },
  journal: {
    dest: `${STATE}/backups/${RUN_ID}/run.json`, args: () => ['rollback', RUN_ID], code: 1,
    names: (r) => join(r, STATE, 'backups', RUN_ID, 'run.json'),
  },
  runid: {
    args: (text) => ['rollback', text], code: 2, names: (_r, text) => JSON.stringify(text),
    // A journal where `../../../../x` from the backups directory lands: taking the id as a path would roll it back.
    setup: (root) => {
      mkdirSync(join(root, 'x'), { recursive: true });
      writeFileSync(join(root, 'x/run.json'), JSON.stringify({
        apiVersion: 'kube-cert-renewer.io/v1alpha1', kind: 'RenewalRun', id: '../../../../x', command: 'run',
        startedAt: new Date().toISOString(), phase: 'committed', entries: [], restarts: [], restarted: [], verified: [],
      }));
    },
  },
  lock: {
    dest: `${STATE}/lock`, args: () => ['run'], code: 0, aged: true, names: (r) => join(r, STATE, 'lock'),
    // `run` records itself in state.json and removes the stale lock it took over.
    mayChange: (rel) => rel === `${STATE}/state.json` || rel === `${STATE}/lock`,
  },
  manifest: {
    dest: 'etc/kubernetes/manifests/kube-apiserver.yaml', config: 'restart:\n  verify: false\n  verifyTimeout: 2s\n',
    args: () => ['renew', 'apiserver'], code: 1, names: () => '/etc/kubernetes/manifests/kube-apiserver.yaml', // host paths, as the node sees them
    // The renewal is staged, committed, then rolled back when the restart fails: the PKI files are restored byte for
    // byte (checked by the digest); only the agent's own records change.
    mayChange: (rel) => rel === STATE || rel === `${STATE}/state.json` || rel.startsWith(`${STATE}/backups`),
  },
};

/** What particular cases must say, beyond naming the file. */
const SAYS: Record<string, RegExp> = {
  'key/encrypted-legacy.key': /encrypted private key \(legacy PEM "Proc-Type: 4,ENCRYPTED"\)/,
  'key/encrypted-pkcs8.key': /encrypted/,
  'kubeconfig/encrypted-legacy-key.conf': /client-key-data is an encrypted private key \(legacy PEM/,
  'kubeconfig/alias-bomb.conf': /alias bomb/,
  'config/alias-bomb.yaml': /alias bomb/,
  'manifest/alias-bomb.yaml': /alias bomb/,
  'config/overflow-duration.yaml': /validity: "999999999999d" is too long/,
  'pem/foreign-ca.crt': /is not signed by the ca CA/,
  'key/foreign.key': /does not match the certificate/,
  'state/empty.json': /is damaged/,
  'journal/other-run-id.json': /is damaged \(it names run/,
  'lock/empty.lock': /took over a lock file left empty or damaged/,
  'lock/half-written.lock': /took over a lock file left empty or damaged/,
};

const cases = readdirSync(CORPUS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(CORPUS, d.name)).map((f) => `${d.name}/${f}`))
  .sort();

const trees = useFixtureCopies();

describe('the bad-input corpus', () => {
  it('has at least 40 cases, each of a kind this test knows', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(cases.filter((c) => !KINDS[c.split('/')[0] as string])).toEqual([]);
    for (const kind of Object.keys(KINDS)) expect(cases.some((c) => c.startsWith(`${kind}/`)), kind).toBe(true);
  });

  it.each(cases)('%s', (name) => {
    const kind = KINDS[name.split('/')[0] as string] as Kind;
    const root = trees.copy(kind.config ?? NO_RESTART);
    const source = join(CORPUS, name);
    const text = readFileSync(source, 'utf8');
    if (kind.dest) {
      const dest = join(root, kind.dest);
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(source, dest);
      if (kind.aged) utimesSync(dest, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    }
    kind.setup?.(root);
    const fragments = privateKeyFragments(root);
    const before = treeDigest(root);
    const r = runCli(['--root', root, '--log-format', 'text', ...kind.args(text)]);
    const output = r.stdout + r.stderr;
    expect(r.code, output).toBe(kind.code);
    expect(output, 'the message names the file').toContain(kind.names(root, text));
    const says = SAYS[name];
    if (says) expect(output).toMatch(says);
    expect(output).not.toMatch(/unexpected error|\n\s+at /);
    expectSameTree(before, treeDigest(root), kind.mayChange);
    if (kind.dest === `${STATE}/lock`) expect(existsSync(join(root, STATE, 'lock')), 'the stale lock is gone').toBe(false);
    expectNoKeyBytes(output, fragments);
  });
});
