/**
 * A restart that fails at once — a manifest that cannot be parsed or is not a Pod — is reported at once as what it
 * is, naming the manifest (as the node sees it), never as "could not be restarted within 300s"; the run is rolled
 * back (the previous certificates, byte for byte).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { useFixtureCopies } from './helpers/host-trees.js';

// verification on, with the default 5-minute budget: a message that waited for it would take minutes
const trees = useFixtureCopies({ issuedDaysAgo: 40, keyAlgorithm: 'ecdsa-p256' });
const CONFIG = 'renewInterval: 30d\nrestart:\n  mode: always\n  quorumGuard: false\n  clusterLock: false\n';

describe('a restart that fails at once', () => {
  it.each([
    ['several YAML documents', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-scheduler\n---\nkind: Pod\n', /is not valid YAML|several|documents?/i],
    ['not a Pod', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: kube-scheduler\n', /is not a Pod manifest/],
  ])('%s: says what failed, naming the file, immediately; rolled back', (_, text, why) => {
    const root = trees.copy(CONFIG);
    const manifest = join(root, 'etc/kubernetes/manifests/kube-scheduler.yaml');
    writeFileSync(manifest, text);
    const before = readFileSync(join(root, 'etc/kubernetes/scheduler.conf'));
    const started = Date.now();
    const r = runCli(['--root', root, 'renew', 'scheduler.conf']);
    const seconds = (Date.now() - started) / 1000;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('kube-scheduler could not be restarted: /etc/kubernetes/manifests/kube-scheduler.yaml: ');
    expect(r.stderr).toMatch(why);
    expect(r.stderr).not.toMatch(/within \d+s/);
    expect(seconds).toBeLessThan(60); // not the 300 s verification budget
    expect(readFileSync(join(root, 'etc/kubernetes/scheduler.conf')).equals(before)).toBe(true);
  });
});
