/**
 * `plan` says, per component, whether a run would reload (the component picks the renewed files up by itself) or
 * restart it, and why — read from the real CLI and checked against the plan schema.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { useFixtureCopies } from './helpers/host-trees.js';
import { assertMatchesSchema } from './helpers/schemas.js';

const trees = useFixtureCopies({ issuedDaysAgo: 40 });

function plan(root: string): { components: Array<{ component: string; action: string; why: string }>; restarts: string[] } {
  const r = runCli(['--root', root, 'plan', '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as ReturnType<typeof plan>;
  assertMatchesSchema('plan', doc);
  return doc;
}

describe('plan: reload or restart, per component', () => {
  it('auto: etcd and a v1.31 kube-apiserver reload; controller-manager and scheduler restart', () => {
    const root = trees.copy('renewInterval: 30d\n');
    const p = plan(root);
    expect(p.components.map((c) => [c.component, c.action])).toEqual([
      ['etcd', 'reload'], ['kube-apiserver', 'reload'], ['kube-controller-manager', 'restart'], ['kube-scheduler', 'restart'],
    ]);
    expect(p.components[0]?.why).toMatch(/every new TLS handshake/);
    expect(p.components[2]?.why).toBe('kube-controller-manager does not reload controller-manager.conf by itself');
    const table = runCli(['--root', root, 'plan']);
    expect(table.stdout).toMatch(/^ {2}etcd: reload \(etcd reads its serving certificate/m);
    expect(table.stdout).toMatch(/^ {2}kube-scheduler: restart \(kube-scheduler does not reload scheduler.conf by itself\)$/m);
  });

  it('auto with a v1.26 kube-apiserver image: its client certificates need a restart', () => {
    const root = trees.copy('renewInterval: 30d\n');
    const manifest = join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/(image: registry\.k8s\.io\/kube-apiserver:)v[\d.]+/, '$1v1.26.15'));
    const api = plan(root).components.find((c) => c.component === 'kube-apiserver');
    expect(api?.action).toBe('restart');
    expect(api?.why).toMatch(/image tag v1\.26\.15; it reloads .*apiserver-etcd-client.* only from v1\.27/);
  });

  it('always: every component restarts', () => {
    const root = trees.copy('renewInterval: 30d\nrestart:\n  mode: always\n');
    const p = plan(root);
    expect(p.components.every((c) => c.action === 'restart' && c.why === 'restart.mode is always')).toBe(true);
    expect(p.components.map((c) => c.component)).toEqual(p.restarts);
  });
});
