/** `demo` as a new operator runs it: fits 120 columns, says verification is off, lists every annotated manifest, and
 * prints no path into the temporary tree it deletes (with --keep it prints the tree, which is then really there). */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { readCert } from './helpers/openssl.js';

const MANIFESTS = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml'];

describe('demo', () => {
  it('fits 120 columns, says verification is off, lists every manifest, names no deleted path', () => {
    const r = runCli(['demo']);
    expect(r.code, r.stderr).toBe(0);
    const lines = `${r.stdout}${r.stderr}`.split('\n');
    const wide = lines.filter((l) => [...l].length > 120);
    expect(wide, wide.join('\n')).toEqual([]);
    expect(r.stdout).toContain('Verification is off in the demo (restart.verify: false)');
    const listed = r.stdout.split('What the kubelet sees')[1] ?? '';
    for (const m of MANIFESTS) expect(listed).toMatch(new RegExp(`^  ${m.replace('.', '\\.')}: kube-cert-renewer/restartedAt: "\\d{4}-`, 'm'));
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/kube-cert-renewer-demo-/);
    expect(r.stdout).toContain('The demo tree is removed now');
  });

  it('--keep prints the tree, which stays with the annotated manifests and renewed certificates', () => {
    const r = runCli(['demo', '--keep']);
    expect(r.code, r.stderr).toBe(0);
    const root = /The demo tree stays in (\S+)\.$/m.exec(r.stdout)?.[1] as string;
    expect(root).toMatch(/kube-cert-renewer-demo-/);
    try {
      expect(existsSync(root)).toBe(true);
      for (const m of MANIFESTS) expect(readFileSync(join(root, 'etc/kubernetes/manifests', m), 'utf8')).toContain('kube-cert-renewer/restartedAt:');
      expect(readCert(join(root, 'etc/kubernetes/pki/apiserver.crt')).notAfter.getTime()).toBeGreaterThan(Date.now() + 360 * 86_400_000);
      expect(r.stdout.split('\n').filter((l) => [...l].length > 120)).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
