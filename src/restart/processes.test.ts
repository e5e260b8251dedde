import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processStartedAt } from '../host/proc.js';
import { allStartedAfter, matchingProcesses } from './processes.js';

// A fake /proc: boot at 1 000 000 s; field 22 of /proc/PID/stat is the start in 10 ms ticks after boot.
const proc = mkdtempSync(join(tmpdir(), 'kcr-proc-'));
afterAll(() => rmSync(proc, { recursive: true, force: true }));
writeFileSync(join(proc, 'stat'), 'cpu  1 2 3\nintr 5\nbtime 1000000\nprocesses 9\n');
function fakeProcess(pid: number, argv: string[], ticks: number, comm = argv[0] ?? 'x'): void {
  mkdirSync(join(proc, String(pid)));
  writeFileSync(join(proc, String(pid), 'cmdline'), `${argv.join('\0')}\0`);
  // comm may hold spaces and parentheses: the fields are counted after the last ')'
  const fields = ['S', ...Array.from({ length: 18 }, (_, i) => String(i + 1)), String(ticks), '0', '0'];
  writeFileSync(join(proc, String(pid), 'stat'), `${pid} (${comm}) ${fields.join(' ')}\n`);
}
fakeProcess(10, ['/usr/local/bin/kube-scheduler', '--bind-address=127.0.0.1'], 50_000, 'kube sched (x)');
fakeProcess(11, ['kube-apiserver', '--secure-port=6443'], 70_000);
fakeProcess(12, ['kube-apiserver', '--secure-port=7443'], 10_000);
fakeProcess(13, ['etcd'], 70_000);
fakeProcess(14, ['etcd'], 20_000);
const at = (s: number): Date => new Date((1_000_000 + s) * 1000);

describe('process start times from /proc', () => {
  it('are the boot time plus the start ticks at 100 per second', () => {
    expect(processStartedAt(10, proc)?.toISOString()).toBe(at(500).toISOString());
    expect(processStartedAt(11, proc)?.getTime()).toBe(at(700).getTime());
    expect(processStartedAt(99, proc)).toBeUndefined();
  });

  it('a component counts as restarted after a time only when every one of its processes started after it', () => {
    expect(allStartedAfter({ binary: 'kube-scheduler' }, at(499), proc)).toBe(true);
    expect(allStartedAfter({ binary: 'kube-scheduler' }, at(500), proc), 'started at that very instant: not after').toBe(false);
    // the identifying flag tells the instances apart: the one on 6443 is new, the one on 7443 is not
    expect(allStartedAfter({ binary: 'kube-apiserver', arg: '--secure-port=6443' }, at(600), proc)).toBe(true);
    expect(allStartedAfter({ binary: 'kube-apiserver' }, at(600), proc)).toBe(false);
    // one old etcd beside a new one still runs the old certificates
    expect(allStartedAfter({ binary: 'etcd' }, at(600), proc)).toBe(false);
    expect(allStartedAfter({ binary: 'etcd' }, at(100), proc)).toBe(true);
    // no process at all: nothing shows it restarted
    expect(allStartedAfter({ binary: 'kube-controller-manager' }, at(0), proc)).toBe(false);
    expect(matchingProcesses({ binary: 'kube-controller-manager' }, proc).size).toBe(0);
  });
});
