/**
 * Working alongside `kubeadm upgrade`: while a kubeadm process runs on the node (its <root>/proc), a run waits
 * (kubeadm.wait), then defers and says so, changing nothing; once kubeadm is gone, the run goes ahead.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, runCliAsync, snapshotFiles } from './helpers/cli.js';
import { useFixtureCopies } from './helpers/host-trees.js';
import { readCert } from './helpers/openssl.js';

const trees = useFixtureCopies({ issuedDaysAgo: 40 });

/** A process table under the host root with one kubeadm process (and an unrelated one). */
function fakeProc(root: string): string {
  const kubeadm = join(root, 'proc/4242');
  mkdirSync(kubeadm, { recursive: true });
  writeFileSync(join(kubeadm, 'cmdline'), '/usr/bin/kubeadm\0upgrade\0apply\0v1.31.4\0');
  mkdirSync(join(root, 'proc/17'), { recursive: true });
  writeFileSync(join(root, 'proc/17/cmdline'), '/usr/bin/kubelet\0--config=/var/lib/kubelet/config.yaml\0');
  return kubeadm;
}

describe('kubeadm running on the node', () => {
  it('a timer run waits, then defers: exit 0, says why with the pid, the tree byte-identical', () => {
    const root = trees.copy('renewInterval: 30d\nrestart:\n  verify: false\nkubeadm:\n  wait: 2s\n');
    fakeProc(root);
    const before = snapshotFiles(root, (rel) => rel.startsWith('proc'));
    const started = Date.now();
    const r = runCli(['--root', root, 'run']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/kubeadm is running \(pid 4242: \/usr\/bin\/kubeadm upgrade apply v1\.31\.4\); waiting up to 2s/);
    expect(r.stderr).toMatch(/kubeadm is still running \(pid 4242\): deferring to the next timer run; nothing was changed/);
    expect(snapshotFiles(root, (rel) => rel.startsWith('proc'))).toEqual(before);
    // `renew` did not do what was asked: exit 1
    expect(runCli(['--root', root, 'renew', 'apiserver']).code).toBe(1);
  });

  it('a run that finds kubeadm finishing goes ahead once it has exited', async () => {
    const root = trees.copy('renewInterval: 30d\nrestart:\n  verify: false\nkubeadm:\n  wait: 2m\n');
    const kubeadm = fakeProc(root);
    const serial = readCert(join(root, 'etc/kubernetes/pki/apiserver.crt')).serial;
    const run = runCliAsync(['--root', root, 'run']);
    await new Promise((r) => setTimeout(r, 3_000));
    rmSync(kubeadm, { recursive: true }); // kubeadm exits
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/kubeadm is running \(pid 4242/);
    expect(r.stderr).not.toMatch(/deferring/);
    expect(readCert(join(root, 'etc/kubernetes/pki/apiserver.crt')).serial).not.toBe(serial);
  });
});
