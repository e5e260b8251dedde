// The systemd units and the packaged files, checked with systemd's own tools: `systemd-analyze verify` against a
// root directory that holds the units as installed (so ExecStart= and the man page reference are really looked up),
// and `systemd-analyze security --offline` for the hardening. systemd-analyze only warns about a bad unit file
// (exit 0), so anything on stderr is a failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig, parseConfig } from '../src/config/config.js';
import { ensureDebianPackages } from '../scripts/debian-packages.mjs';

const ROOT = join(__dirname, '..');
const SERVICE = 'kube-cert-renewer.service';
const TIMER = 'kube-cert-renewer.timer';
/** The exposure `systemd-analyze security` gives the service now; raising it needs a reason and this number. */
const MAX_EXPOSURE = 2.4;

const work = mkdtempSync(join(tmpdir(), 'kcr-units-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * A root directory with systemd's own units (for the targets ours refer to), ours in /etc/systemd/system, an
 * executable at /usr/bin/kube-cert-renewer and the man page in a MANPATH directory.
 */
function analyzeRoot(name: string, units: Record<string, string>): { root: string; manpath: string } {
  const root = join(work, name);
  mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
  cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  for (const [unit, text] of Object.entries(units)) writeFileSync(join(root, 'etc/systemd/system', unit), text);
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  writeFileSync(join(root, 'usr/bin/kube-cert-renewer'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(root, 'usr/bin/kube-cert-renewer'), 0o755);
  const manpath = join(root, 'man');
  mkdirSync(join(manpath, 'man8'), { recursive: true });
  copyFileSync(join(ROOT, 'packaging/kube-cert-renewer.8'), join(manpath, 'man8/kube-cert-renewer.8'));
  return { root, manpath };
}

function analyze(args: string[], manpath: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', env: { ...process.env, MANPATH: manpath, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `systemd-analyze verify` of both units in a root holding them: clean means exit 0 and nothing on stderr. */
function verify(name: string, units: Record<string, string>): { status: number | null; stderr: string } {
  const { root, manpath } = analyzeRoot(name, units);
  return analyze(['verify', `--root=${root}`, SERVICE, TIMER], manpath);
}

const shipped = (): Record<string, string> => ({
  [SERVICE]: readFileSync(join(ROOT, 'systemd', SERVICE), 'utf8'),
  [TIMER]: readFileSync(join(ROOT, 'systemd', TIMER), 'utf8'),
});

/** `Key=value` settings of one section of a unit file, in order (repeated keys repeat). */
function settings(text: string, section: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) current = header[1] ?? '';
    else if (current === section) {
      const eq = line.indexOf('=');
      out.push([line.slice(0, eq), line.slice(eq + 1)]);
    }
  }
  return out;
}

beforeAll(() => {
  ensureDebianPackages({ systemd: 'systemd-analyze', 'man-db': 'man' });
});

describe('systemd units', () => {
  it('pass systemd-analyze verify with nothing on stderr', () => {
    const r = verify('shipped', shipped());
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('(the check itself fails on a unit systemd only warns about, and on a missing man page)', () => {
    const units = shipped();
    const r = verify('unknown-key', { ...units, [SERVICE]: units[SERVICE]?.replace(/^\[Service\]\n/m, '[Service]\nProtectEverything=yes\n') ?? '' });
    expect(r.stderr).toMatch(/Unknown key name 'ProtectEverything'|Unknown key 'ProtectEverything'/);
    const m = verify('bad-man', { ...units, [TIMER]: units[TIMER]?.replace('man:kube-cert-renewer(8)', 'man:kube-cert-renewer-missing(8)') ?? '' });
    expect(m.stderr).toMatch(/kube-cert-renewer-missing/);
  });

  it(`keep the service's exposure at ${MAX_EXPOSURE} or below (systemd-analyze security --offline)`, () => {
    const { root, manpath } = analyzeRoot('security', shipped());
    const r = analyze(['security', '--offline=true', `--root=${root}`, '--no-pager', SERVICE], manpath);
    expect(r.stderr).toBe('');
    const exposure = Number(/Overall exposure level for kube-cert-renewer\.service: ([\d.]+)/.exec(r.stdout)?.[1]);
    expect(exposure).toBeGreaterThan(0);
    expect(exposure).toBeLessThanOrEqual(MAX_EXPOSURE);
  });

  it('run `kube-cert-renewer run` as a oneshot whose sd_notify status reaches systemd', () => {
    const service = settings(shipped()[SERVICE] ?? '', 'Service');
    expect(service).toContainEqual(['Type', 'oneshot']);
    expect(service).toContainEqual(['ExecStart', '/usr/bin/kube-cert-renewer run']);
    expect(service).toContainEqual(['NotifyAccess', 'all']);
    expect(settings(shipped()[SERVICE] ?? '', 'Unit')).toContainEqual(['Documentation', 'man:kube-cert-renewer(8)']);
  });

  it('let the service write only /etc/kubernetes and its state directory, and keep what the job needs', () => {
    const service = new Map<string, string[]>();
    for (const [k, v] of settings(shipped()[SERVICE] ?? '', 'Service')) service.set(k, [...(service.get(k) ?? []), v]);
    expect(service.get('ProtectSystem')).toEqual(['strict']);
    expect(service.get('ReadWritePaths')).toEqual(['-/etc/kubernetes']);
    expect(service.get('StateDirectory')).toEqual(['kube-cert-renewer']);
    expect(service.get('RestrictAddressFamilies')).toEqual(['AF_UNIX AF_INET AF_INET6']);
    expect(service.get('CapabilityBoundingSet')).toEqual(['CAP_CHOWN CAP_DAC_OVERRIDE']);
    expect(service.get('SystemCallFilter')?.[0]).toBe('@system-service');
    for (const key of ['NoNewPrivileges', 'PrivateTmp', 'ProtectHome', 'ProtectKernelTunables', 'ProtectKernelModules',
      'ProtectKernelLogs', 'ProtectControlGroups', 'RestrictNamespaces', 'LockPersonality']) {
      expect(service.get(key), key).toEqual(['yes']);
    }
    // V8 needs writable executable memory; the agent reads other processes in /proc and talks to the network.
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
    expect(service.has('ProtectProc')).toBe(false);
    expect(service.has('ProcSubset')).toBe(false);
    expect(service.has('PrivateNetwork')).toBe(false);
  });

  it('start the service daily, spread over an hour, catching up on missed runs', () => {
    const timer = settings(shipped()[TIMER] ?? '', 'Timer');
    expect(timer).toContainEqual(['OnCalendar', 'daily']);
    expect(timer).toContainEqual(['Persistent', 'true']);
    expect(timer).toContainEqual(['RandomizedDelaySec', '1h']);
    expect(timer).toContainEqual(['AccuracySec', '1us']);
    expect(settings(shipped()[TIMER] ?? '', 'Install')).toEqual([['WantedBy', 'timers.target']]);
    // the service has no [Install]: only the timer is enabled
    expect(settings(shipped()[SERVICE] ?? '', 'Install')).toEqual([]);
  });
});

describe('packaged files', () => {
  const configText = readFileSync(join(ROOT, 'packaging/config.yaml'), 'utf8');

  it('/etc/kube-cert-renewer/config.yaml loads as the built-in defaults', () => {
    const file = join(work, 'config.yaml');
    writeFileSync(file, configText);
    expect(loadConfig(file, true)).toEqual(defaultConfig());
  });

  it('every setting it shows commented out is valid and is the default', () => {
    // `#key: value` and `#  key: value` are settings; `# text` (one space) is prose.
    const uncommented = configText.split('\n').map((l) => (/^#(?! [^ ])(\s*)[A-Za-z]\w*:/.test(l) ? l.slice(1) : l)).join('\n');
    expect(uncommented).not.toBe(configText);
    const doc = yaml.load(uncommented) as Record<string, unknown>;
    expect(Object.keys(doc).sort()).toEqual(
      ['apiVersion', 'kind', ...Object.keys(defaultConfig())].sort(),
    );
    expect(parseConfig('config.yaml (uncommented)', doc)).toEqual(defaultConfig());
  });

  it('the man page renders without groff warnings', () => {
    const out = execFileSync('man', ['--warnings', '-l', join(ROOT, 'packaging/kube-cert-renewer.8')], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MANWIDTH: '80', MAN_KEEP_FORMATTING: '' },
    });
    expect(out).toMatch(/^NAME\n\s+kube-cert-renewer - keep the certificates/m);
    const r = spawnSync('man', ['--warnings', '-l', join(ROOT, 'packaging/kube-cert-renewer.8')], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80' } });
    expect(r.stderr).toBe('');
  });
});
