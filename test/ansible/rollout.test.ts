// npm run test:ansible: the Ansible role and playbooks run for real (Debian's ansible-core, connected with the
// community.docker.nsenter plugin from Debian's ansible package) against three booted Debian 12 control-plane
// nodes (nodes.ts). Results are checked on the nodes with tools independent of the product and of Ansible:
// openssl, etcdctl, dpkg, systemctl, journalctl, and sha256 digests of whole trees. See README "Installing with
// Ansible". The steps run in order and share the nodes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractKubeconfigCredentials, writeTempPem } from '../helpers/kubeadm-fixture.js';
import { expectKeyMatches, expectSignedBy, readCert } from '../helpers/openssl.js';
import { builtPackage } from '../system/packages.js';
import { type Window, renewWindow } from './journal.js';
import { type Node, bootNodes, destroyNodes, etcdHealth } from './nodes.js';
import { ANSIBLE_DIR, type PlaybookRun, playbook } from './playbook.js';
import { type TreeDigest, digestTrees, treeChanges } from './trees.js';

const NAMES = ['cp-1', 'cp-2', 'cp-3'] as const;
const REPO = join(__dirname, '..', '..');
const LEAVES = [
  'admin.conf', 'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'controller-manager.conf',
  'etcd-healthcheck-client', 'etcd-peer', 'etcd-server', 'front-proxy-client', 'kubelet.conf', 'scheduler.conf',
  'super-admin.conf',
];
/** Everything install.yml or a renewal could write, and dpkg's record of what is installed. */
const TREES = ['/etc', '/usr/bin', '/usr/lib/systemd', '/var/lib/dpkg', '/var/lib/kube-cert-renewer', '/var/cache/kube-cert-renewer-ansible'];
/** What a renewal writes. */
const PKI_TREES = ['/etc/kubernetes', '/var/lib/kube-cert-renewer'];
const ON_CALENDAR = '*-*-* 04:17:00';
const RANDOMIZED_DELAY = '17min';

interface Status {
  policy: { renewInterval: string };
  lastRun?: { id: string; result: string; renewed: string[]; restarted: string[]; failed: string[] };
  summary: { healthy: boolean; expired: number; due: number };
}

describe.sequential('the Ansible role on three booted control-plane nodes', () => {
  let nodes: Node[] = [];
  let work: string;
  let inventory: string;
  const node = (name: string): Node => nodes.find((n) => n.name === name) as Node;
  const run = (args: string[], env?: Record<string, string>): Promise<PlaybookRun> => playbook(work, inventory, args, env);
  const status = async (n: Node): Promise<Status> => JSON.parse((await n.c.exec(['kube-cert-renewer', 'status', '-o', 'json'])).stdout) as Status;
  const digests = (paths: readonly string[]): Record<string, TreeDigest> =>
    Object.fromEntries(nodes.map((n) => [n.name, digestTrees(n.fx.root, paths)]));
  const expectUnchanged = (before: Record<string, TreeDigest>, paths: readonly string[]): void => {
    const after = digests(paths);
    for (const n of nodes) expect(treeChanges(before[n.name] as TreeDigest, after[n.name] as TreeDigest), n.name).toEqual([]);
  };
  const leafSerials = (n: Node): Record<string, string> => Object.fromEntries(n.fx.entries.filter((e) => e.kind !== 'ca').map((e) => [e.name,
    readCert(e.kind === 'kubeconfig' ? extractKubeconfigCredentials(e.kubeconfigPath as string, n.fx.root).certPem : e.certPath).serial]));
  const expectRecap = (r: PlaybookRun, host: string, want: Partial<{ changed: number; minChanged: number; failures: number }>): void => {
    const s = r.stats[host];
    expect(s, `${host} in the recap`).toBeDefined();
    if (want.failures !== undefined) expect(s?.failures, `${host} failures\n${r.failures()}`).toBe(want.failures);
    if (want.changed !== undefined) expect(s?.changed, `${host} changed`).toBe(want.changed);
    if (want.minChanged !== undefined) expect(s?.changed, `${host} changed`).toBeGreaterThanOrEqual(want.minChanged);
  };

  beforeAll(async () => {
    work = mkdtempSync('/var/tmp/kcr-ansible-');
    nodes = await bootNodes(NAMES);
    inventory = join(work, 'inventory.yml');
    writeFileSync(inventory, yaml.dump({
      all: {
        children: {
          kube_control_plane: { hosts: Object.fromEntries(nodes.map((n) => [n.name, { ansible_nsenter_pid: n.c.pid }])) },
        },
        vars: {
          ansible_connection: 'community.docker.nsenter',
          ansible_python_interpreter: '/usr/bin/python3',
          // nsenter already runs everything as root: no sudo (the playbooks say become: true for ssh)
          ansible_become: false,
          kube_cert_renewer_package_source: 'file',
          kube_cert_renewer_package_deb: builtPackage('deb'),
          kube_cert_renewer_package_rpm: builtPackage('rpm'),
          kube_cert_renewer_renew_interval: '30d',
          kube_cert_renewer_restart_verify_timeout: '60s',
          // the stand-ins (openssl s_server) do not reload: this test is about restarts taking turns across nodes
          kube_cert_renewer_restart_mode: 'always',
          kube_cert_renewer_timer_on_calendar: ON_CALENDAR,
          kube_cert_renewer_timer_randomized_delay: RANDOMIZED_DELAY,
        },
      },
    }));
  }, 20 * 60_000);

  afterAll(async () => {
    await destroyNodes(nodes);
    if (work && process.env['KCR_TEST_KEEP'] !== '1') rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it('ansible-lint --profile production passes on ansible/', () => {
    const lint = spawnSync('ansible-lint', ['--nocolor', '--profile', 'production', 'ansible/'], { cwd: REPO, encoding: 'utf8' });
    const out = `${lint.stdout}${lint.stderr}`;
    expect(lint.status, out).toBe(0);
    expect(out).not.toMatch(/violation/i);
    expect(out).toMatch(/Passed with production profile: 0 failure\(s\), 0 warning\(s\)/);
    // any rule skipped inline must say why on the same line
    const noqa = spawnSync('grep', ['-rn', 'noqa', ANSIBLE_DIR], { encoding: 'utf8' }).stdout;
    for (const line of noqa.split('\n').filter(Boolean)) expect(line).toMatch(/noqa: [\w[\]-]+ .{10,}/);
  });

  it('install.yml --check on fresh nodes reports what it would do and changes nothing', async () => {
    const before = digests(TREES);
    const r = await run(['install.yml', '--check', '--diff']);
    expect(r.code, r.failures()).toBe(0);
    for (const n of nodes) expectRecap(r, n.name, { failures: 0, minChanged: 1 });
    const copies = r.task('Copy the package file to the node');
    expect(Object.keys(copies).sort()).toEqual([...NAMES]);
    expect(Object.values(copies).every((x) => x.changed)).toBe(true);
    expectUnchanged(before, TREES);
  });

  it('install.yml installs the .deb built by npm run package on all three, writes the config and schedules the timer', async () => {
    const r = await run(['install.yml']);
    expect(r.code, r.failures()).toBe(0);
    for (const n of nodes) expectRecap(r, n.name, { failures: 0, minChanged: 1 });
    const deb = builtPackage('deb');
    const control = execFileSync('dpkg-deb', ['-f', deb, 'Package', 'Version'], { encoding: 'utf8' });
    const version = /Version: (\S+)/.exec(control)?.[1];
    // the program and the packaged timer as the .deb holds them (dpkg-deb), to compare with the nodes' files
    const [binary, timerFile] = execFileSync('sh', ['-c', 'cd "$2" && dpkg-deb --fsys-tarfile "$1" | tar -x ./usr/bin/kube-cert-renewer ./lib/systemd/system/kube-cert-renewer.timer && sha256sum usr/bin/kube-cert-renewer lib/systemd/system/kube-cert-renewer.timer && rm -r usr lib',
      'sh', deb, work], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]);
    const configKeys = readmeConfigKeys();
    for (const n of nodes) {
      const c = n.c;
      expect((await c.run(['dpkg-query', '-W', '-f=${Version} ${db:Status-Abbrev}', 'kube-cert-renewer'])).trim(), n.name).toBe(`${version} ii`);
      expect((await c.run(['sha256sum', '/usr/bin/kube-cert-renewer'])).split(' ')[0], n.name).toBe(binary);
      // the packaged timer is untouched; the schedule is a drop-in
      expect((await c.run(['sha256sum', '/lib/systemd/system/kube-cert-renewer.timer'])).split(' ')[0], n.name).toBe(timerFile);
      expect((await c.exec(['systemctl', 'is-enabled', 'kube-cert-renewer.timer'])).stdout.trim(), n.name).toBe('enabled');
      expect((await c.run(['systemctl', 'show', '-P', 'TimersCalendar', 'kube-cert-renewer.timer'])), n.name).toContain(`OnCalendar=${ON_CALENDAR} ;`);
      expect((await c.run(['systemctl', 'show', '-P', 'RandomizedDelayUSec', 'kube-cert-renewer.timer'])).trim(), n.name).toBe(RANDOMIZED_DELAY);
      const timers = await c.run(['systemctl', 'list-timers', '--no-pager', 'kube-cert-renewer.timer']);
      const next = /^\w{3} \d{4}-\d\d-\d\d (\d\d:\d\d:\d\d) UTC .*kube-cert-renewer\.timer\s+kube-cert-renewer\.service$/m.exec(timers);
      expect(next, `${n.name}: list-timers\n${timers}`).not.toBeNull();
      const at = next?.[1] ?? '';
      expect(at >= '04:17:00' && at <= '04:34:00', `${n.name}: next run at ${at}, not within 04:17 + 17min`).toBe(true);
      // the config: every key of README's table, with the interval from the variables, read back by the agent
      const config = yaml.load(readFileSync(n.c.path('/etc/kube-cert-renewer/config.yaml'), 'utf8')) as Record<string, unknown>;
      expect(config['renewInterval']).toBe('30d');
      expect(flatKeys(config).sort()).toEqual(configKeys);
      expect((await status(n)).policy.renewInterval).toBe('30d');
    }
  });

  it('install.yml a second time reports changed=0', async () => {
    const r = await run(['install.yml']);
    expect(r.code, r.failures()).toBe(0);
    for (const n of nodes) expectRecap(r, n.name, { failures: 0, changed: 0 });
  });

  it('renew.yml --check runs plan only: it shows the twelve renewals per node and every tree stays byte-identical', async () => {
    const before = digests(TREES);
    const r = await run(['renew.yml', '--check']);
    expect(r.code, r.failures()).toBe(0);
    const shown = r.task('Show what a renewal would do (check mode)');
    for (const n of nodes) {
      expectRecap(r, n.name, { failures: 0, changed: 1 });
      expect(((shown[n.name]?.msg ?? {}) as { renew?: string[] }).renew?.slice().sort(), n.name).toEqual(LEAVES);
      expect(r.tasksRunOn(n.name)).not.toContain('Renew (kube-cert-renewer run, through kube-cert-renewer.service)');
    }
    expectUnchanged(before, TREES);
    for (const n of nodes) expect((await status(n)).lastRun, n.name).toBeUndefined();
  });

  let windows: Record<string, Window> = {};

  it('renew.yml renews all three, one node at a time: chains verify, keys match, the components serve again', async () => {
    const serialsBefore = Object.fromEntries(nodes.map((n) => [n.name, leafSerials(n)]));
    const kubeletBefore = Object.fromEntries(await Promise.all(nodes.map(async (n) =>
      [n.name, (await n.c.run(['systemctl', 'show', '-P', 'MainPID', 'kubelet.service'])).trim()])));
    const started = Date.now();
    const r = await run(['renew.yml']);
    expect(r.code, r.failures()).toBe(0);
    const reported = r.task('Show the run\'s result');
    for (const n of nodes) {
      expectRecap(r, n.name, { failures: 0, changed: 1 });
      const shown = reported[n.name]?.msg as { renewed: string[]; restarted: string[] };
      expect(shown.renewed.slice().sort(), n.name).toEqual(LEAVES);
      expect(shown.restarted.slice().sort(), n.name).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet']);
      const after = leafSerials(n);
      for (const name of LEAVES) expect(after[name], `${n.name} ${name}`).not.toBe(serialsBefore[n.name]?.[name]);
      for (const e of n.fx.entries.filter((x) => x.kind !== 'ca')) {
        const ca = n.fx.entry(e.caName as string).certPath;
        if (e.kind === 'kubeconfig') {
          const creds = extractKubeconfigCredentials(e.kubeconfigPath as string, n.fx.root);
          expectSignedBy(ca, writeTempPem(creds.certPem));
          expectKeyMatches(writeTempPem(creds.certPem), writeTempPem(creds.keyPem));
        } else {
          expectSignedBy(ca, e.certPath);
          expectKeyMatches(e.certPath, e.keyPath as string);
        }
      }
      const health = await etcdHealth(n.c);
      expect(health.code, `${n.name}: ${health.stderr}`).toBe(0);
      const apiserver = await n.c.run(['sh', '-c', 'openssl s_client -connect 127.0.0.1:6443 </dev/null 2>/dev/null | openssl x509']);
      expect(readCert(apiserver).serial, n.name).toBe(readCert(n.c.path('/etc/kubernetes/pki/apiserver.crt')).serial);
      expect((await n.c.run(['systemctl', 'show', '-P', 'MainPID', 'kubelet.service'])).trim(), n.name).not.toBe(kubeletBefore[n.name]);
    }
    // every node's window, from its own journal, lies before the next node's
    windows = {};
    for (const n of nodes) {
      const w = await renewWindow(n.c, started);
      expect(w, `${n.name}: no kube-cert-renewer.service records in its journal`).toBeDefined();
      expect((w as Window).restarts.length, `${n.name}: restarts in the journal`).toBeGreaterThanOrEqual(5);
      windows[n.name] = w as Window;
    }
    const ordered = NAMES.map((name) => windows[name] as Window);
    const gaps = ordered.slice(1).map((w, i) => (w.start - (ordered[i] as Window).end) / 1e6);
    const lengths = ordered.map((w) => ((w.end - w.start) / 1e6).toFixed(1));
    process.stderr.write(`[ansible] renew-and-restart windows from the journals: ${NAMES.map((name, i) => `${name} ${lengths[i]} s`).join(', ')}; gaps between them: ${gaps.map((g) => `${g.toFixed(1)} s`).join(', ')}\n`);
    for (const g of gaps) expect(g, 'the next node started before the previous one had finished').toBeGreaterThan(0);
  });

  it('renew.yml with nothing due reports changed=0 (and still ran and gated every node)', async () => {
    const ids = Object.fromEntries(await Promise.all(nodes.map(async (n) => [n.name, (await status(n)).lastRun?.id])));
    const r = await run(['renew.yml']);
    expect(r.code, r.failures()).toBe(0);
    for (const n of nodes) {
      expectRecap(r, n.name, { failures: 0, changed: 0 });
      const last = (await status(n)).lastRun;
      expect(last?.id, n.name).not.toBe(ids[n.name]);
      expect(last?.renewed, n.name).toEqual([]);
      expect(r.tasksRunOn(n.name)).toContain('Check that the run succeeded and nothing is expired or failed');
    }
  });

  it('a node that fails (unreadable CA key) stops the rollout there; the node after it is untouched', async () => {
    const broken = node('cp-2');
    writeFileSync(broken.c.path('/etc/kubernetes/pki/ca.key'), 'not a key\n', { mode: 0o600 });
    const cp3Before = digestTrees(node('cp-3').fx.root, TREES);
    const cp3Run = (await status(node('cp-3'))).lastRun?.id;
    const started = Date.now();
    const r = await run(['renew.yml', '-e', 'kube_cert_renewer_renew_all=true']);
    expect(r.code, 'ansible-playbook exit code').toBe(2);
    expectRecap(r, 'cp-1', { failures: 0, changed: 1 });
    const first = (await status(node('cp-1'))).lastRun;
    expect(first?.result).toBe('success');
    expect(first?.renewed.slice().sort(), 'cp-1 renewed everything (renew --all), though nothing was due').toEqual(LEAVES);
    expectRecap(r, 'cp-2', { failures: 1 });
    const gate = r.task('Check that the run succeeded and nothing is expired or failed')['cp-2'];
    expect(String(gate?.msg), 'the gate names what failed').toMatch(/^cp-2: the renewal did not end healthy .*failed .*apiserver.*\/etc\/kubernetes\/pki\/ca\.key: holds no PEM private key/s);
    // cp-3: no task ran there, nothing changed, no run in its journal
    expect(r.stats['cp-3'], 'cp-3 in the recap').toBeUndefined();
    expect(treeChanges(cp3Before, digestTrees(node('cp-3').fx.root, TREES))).toEqual([]);
    expect((await status(node('cp-3'))).lastRun?.id).toBe(cp3Run);
    expect(await renewWindow(node('cp-3').c, started)).toBeUndefined();
  });

  it('the RedHat branch: install.yml --check with facts faked as Rocky Linux 9 selects the .rpm and dnf, and changes nothing', async () => {
    const target = node('cp-3');
    const cache = join(work, 'facts');
    const cacheEnv = { ANSIBLE_CACHE_PLUGIN: 'jsonfile', ANSIBLE_CACHE_PLUGIN_CONNECTION: cache, ANSIBLE_CACHE_PLUGIN_TIMEOUT: '0' };
    // cp-3's real facts, gathered into a fact cache, then rewritten as those of a RedHat-family host "el-1"
    const gathered = spawnSync('ansible', ['-i', inventory, 'cp-3', '-m', 'ansible.builtin.setup'], { encoding: 'utf8', env: { ...process.env, ...cacheEnv } });
    expect(gathered.status, gathered.stdout + gathered.stderr).toBe(0);
    const facts = JSON.parse(readFileSync(join(cache, 'cp-3'), 'utf8')) as Record<string, unknown>;
    expect(facts['ansible_os_family']).toBe('Debian');
    Object.assign(facts, {
      ansible_os_family: 'RedHat', ansible_distribution: 'Rocky', ansible_distribution_major_version: '9',
      ansible_distribution_version: '9.4', ansible_distribution_release: 'Blue Onyx', ansible_pkg_mgr: 'dnf',
      _ansible_facts_gathered: true,
    });
    writeFileSync(join(cache, 'el-1'), JSON.stringify(facts));
    const elInventory = join(work, 'inventory-el.yml');
    const base = yaml.load(readFileSync(inventory, 'utf8')) as { all: { vars: Record<string, unknown> } };
    writeFileSync(elInventory, yaml.dump({
      all: { children: { kube_control_plane: { hosts: { 'el-1': { ansible_nsenter_pid: target.c.pid } } } }, vars: base.all.vars },
    }));
    const before = digestTrees(target.fx.root, TREES);
    // gathering "smart" takes the cached facts instead of gathering them again
    const r = await playbook(work, elInventory, ['install.yml', '--check', '--diff'], { ...cacheEnv, ANSIBLE_GATHERING: 'smart' });
    expect(r.code, r.failures()).toBe(0);
    expectRecap(r, 'el-1', { failures: 0 });
    expect(r.task('Gathering Facts')['el-1'], 'facts were gathered again').toBeUndefined();
    expect(r.task('Install the .deb (Debian)')['el-1']?.skipped).toBe(true);
    expect(r.task('Install the .rpm (RedHat)')['el-1'], 'the dnf task is reached').toBeDefined();
    const copy = r.task('Copy the package file to the node')['el-1'];
    expect(copy?.changed).toBe(true);
    expect(JSON.stringify(copy)).toContain(basename(builtPackage('rpm')));
    expect(treeChanges(before, digestTrees(target.fx.root, TREES))).toEqual([]);
  });
});

/** The keys of README's configuration table, dotted (apiVersion and kind included). */
function readmeConfigKeys(): string[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration'));
  const table = section.slice(section.indexOf('| key |'), section.indexOf('\n\n', section.indexOf('| key |')));
  return table.split('\n').slice(2).flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([\w.-]+)`/g)].map((m) => m[1] as string)).sort();
}

function flatKeys(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' && !Array.isArray(v)
    ? flatKeys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`]));
}
