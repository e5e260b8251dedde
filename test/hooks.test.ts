/**
 * hooks.postRenew: run after a successful run that renewed something, with what was renewed and restarted in the
 * environment; a failing hook fails the run but rolls nothing back; hooks.timeout bounds the wait.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCert } from './helpers/openssl.js';
import { runCli, statusJson } from './helpers/cli.js';
import { stateOf, useFixtureCopies } from './helpers/host-trees.js';

const trees = useFixtureCopies({ issuedDaysAgo: 40 });

describe('post-renew hooks', () => {
  it('run after a successful run with what was renewed and restarted in the environment', () => {
    const out = trees.scratch();
    const root = trees.copy(`restart:
  verify: false
hooks:
  postRenew:
    - env | grep '^KUBE_CERT_RENEWER_' | sort > ${out}/env
    - echo second >> ${out}/order
`);
    const r = runCli(['--root', root, '--log-format', 'json', 'renew', 'etcd-server', 'admin.conf']);
    expect(r.code, r.stderr).toBe(0);
    const env = Object.fromEntries(readFileSync(join(out, 'env'), 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(env.KUBE_CERT_RENEWER_RENEWED?.split(' ').sort()).toEqual(['admin.conf', 'etcd-server']);
    expect(env.KUBE_CERT_RENEWER_RESTARTED).toBe('etcd');
    expect(env.KUBE_CERT_RENEWER_ROOT).toBe(root);
    expect(env.KUBE_CERT_RENEWER_RUN_ID).toBe(stateOf(root).entries['etcd-server'].runId);
    expect(readdirSync(join(root, 'var/lib/kube-cert-renewer/backups'))).toEqual([env.KUBE_CERT_RENEWER_RUN_ID]);
    expect(readFileSync(join(out, 'order'), 'utf8')).toBe('second\n');

    // nothing renewed: no hook
    rmSync(join(out, 'env'));
    const idle = runCli(['--root', root, 'run']);
    expect(idle.code, idle.stderr).toBe(0);
    expect(existsSync(join(out, 'env'))).toBe(false);
  });

  it('a failing hook makes the exit code 1 but rolls nothing back', () => {
    const out = trees.scratch();
    const root = trees.copy(`restart:
  verify: false
hooks:
  postRenew:
    - echo hook says no; exit 3
    - touch ${out}/ran-after
`);
    const before = readFileSync(join(root, 'etc/kubernetes/pki/etcd/server.crt'));
    const r = runCli(['--root', root, '--log-format', 'json', 'renew', 'etcd-server']);
    expect(r.code, r.stderr).toBe(1);
    const after = readFileSync(join(root, 'etc/kubernetes/pki/etcd/server.crt'));
    expect(after.equals(before), 'the renewed certificate stays').toBe(false);
    expect(statusJson(root).report.certificates.find((c) => c.name === 'etcd-server')?.serial).toBe(readCert(join(root, 'etc/kubernetes/pki/etcd/server.crt')).serial);
    const backups = join(root, 'var/lib/kube-cert-renewer/backups');
    const [id] = readdirSync(backups);
    expect((JSON.parse(readFileSync(join(backups, id as string, 'run.json'), 'utf8')) as { phase: string }).phase).toBe('done');
    const events = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const failed = events.find((e) => e.msg === 'post-renew hook failed');
    expect(failed, r.stderr).toMatchObject({ level: 50, exitCode: 3, output: 'hook says no' });
    expect(stateOf(root).lastRun).toMatchObject({ result: 'failure', renewed: ['etcd-server'], failed: ['hooks'] });
    expect(existsSync(join(out, 'ran-after')), 'later hooks still run').toBe(true);
  });
});

describe('post-renew hooks: timeout', () => {
  it('hooks.timeout bounds the wait and kills everything the hook started', () => {
    const out = trees.scratch();
    const root = trees.copy(`restart:
  verify: false
hooks:
  timeout: 2s
  postRenew:
    - sleep 60 & echo $! > ${out}/sleep.pid; wait; touch ${out}/finished
    - nohup sleep 60 > /dev/null 2>&1 & echo $! > ${out}/daemon.pid; echo started
`);
    const started = Date.now();
    const r = runCli(['--root', root, '--log-format', 'json', 'renew', 'admin.conf']);
    const seconds = (Date.now() - started) / 1000;
    expect(r.code, r.stderr).toBe(1);
    expect(seconds, 'did not wait for the hook past hooks.timeout').toBeLessThan(15);
    const events = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.find((e) => e.level === 50 && /hooks\.timeout \(2s\)/.test(String(e.msg))), r.stderr).toBeDefined();
    const alive = (pidFile: string): boolean => {
      const pid = Number(readFileSync(join(out, pidFile), 'utf8').trim());
      expect(pid).toBeGreaterThan(1);
      // a killed process may linger as a zombie until something reaps it: that is dead too
      const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
      return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    };
    expect(alive('sleep.pid'), 'the timed-out hook’s child was killed').toBe(false);
    expect(existsSync(join(out, 'finished'))).toBe(false);
    // a hook that leaves a daemon behind and exits 0 succeeds without waiting for the daemon
    expect(events.find((e) => e.msg === 'post-renew hook succeeded' && e.output === 'started'), r.stderr).toBeDefined();
    const daemon = Number(readFileSync(join(out, 'daemon.pid'), 'utf8').trim());
    if (alive('daemon.pid')) process.kill(daemon, 'SIGKILL');
  });
});
