/**
 * The log stream: in journal format every stderr line carries its syslog priority (errors that end a command too),
 * and no format ever lets private key material (PEM or any base64 run of a key in the tree) into logs or output.
 */
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { CONFIG_HEADER, useFixtureCopies } from './helpers/host-trees.js';

const trees = useFixtureCopies({ issuedDaysAgo: 40 });

/** Base64 of every private key in the tree: PEM bodies of key files and the client-key-data of kubeconfigs. */
function keyMaterial(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const text = readFileSync(p, 'utf8');
        for (const m of text.matchAll(/-----BEGIN [A-Z ]*PRIVATE KEY-----([\s\S]*?)-----END/g)) out.push((m[1] as string).replace(/\s/g, ''));
        if (e.name.endsWith('.conf')) {
          const doc = yaml.load(text) as { users?: Array<{ user?: Record<string, string> }> };
          for (const u of doc?.users ?? []) if (u.user?.['client-key-data']) out.push(u.user['client-key-data']);
        }
      }
    }
  };
  walk(root);
  return out;
}

/** The first 36-character run of key material found in `text` (windows of 24 every 12 characters), if any. */
function leakedKeyChunk(text: string, keys: string[]): string | undefined {
  for (const k of keys) {
    for (let i = 0; i + 24 <= k.length; i += 12) {
      const chunk = k.slice(i, i + 24);
      if (text.includes(chunk)) return chunk;
    }
  }
  return undefined;
}

describe('logs', () => {
  it('--log-format journal: every line carries its syslog priority', () => {
    // restart.enabled false → a warning; a key mismatch → an error; renewals → info
    const root = trees.copy('renewInterval: 30d\nrestart:\n  enabled: false\nmetrics:\n  textfileDir: /var/lib/node_exporter\n');
    copyFileSync(join(root, 'etc/kubernetes/pki/apiserver-kubelet-client.key'), join(root, 'etc/kubernetes/pki/front-proxy-client.key'));
    const r = runCli(['--root', root, '--log-format', 'journal', '-v', 'run']);
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) expect(l, 'priority prefix').toMatch(/^<[0-7]>\S/);
    expect(lines.filter((l) => l.startsWith('<6>renewed apiserver '))).toHaveLength(1);
    expect(lines.some((l) => l.startsWith('<4>') && l.includes('restart.enabled is false')), r.stderr).toBe(true);
    expect(lines.some((l) => l.startsWith('<3>') && l.includes('front-proxy-client')), r.stderr).toBe(true);
    expect(lines.some((l) => l.startsWith('<3>run failed')), r.stderr).toBe(true);
    expect(lines.some((l) => l.startsWith('<7>metrics written')), 'debug lines at priority 7 with -v').toBe(true);
  });

  it('--log-format journal: errors that end a command carry a priority too, on every line', () => {
    const root = trees.copy('restart:\n  verify: false\n');
    const badConfig = join(trees.scratch(), 'config.yaml');
    writeFileSync(badConfig, `${CONFIG_HEADER}restart:\n  verifyTimeout: soon\n`);
    const cases: Array<[string[], number]> = [
      [['rollback', '20200101T000000Z-000000'], 2], // no such run (UsageError, with a hint line)
      [['--config', badConfig, 'status'], 2], // invalid configuration
      [['renew', 'ca'], 2], // CAs are not renewable here
    ];
    for (const [args, code] of cases) {
      const r = runCli(['--root', root, '--log-format', 'journal', ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines.length, args.join(' ')).toBeGreaterThan(0);
      for (const l of lines) expect(l, `${args.join(' ')}: every line`).toMatch(/^<3>/);
      expect(lines[0]).toMatch(/^<3>kube-cert-renewer: /);
    }
  });

  it('the key-material detector finds a key when there is one (so the next test can fail)', () => {
    const keys = keyMaterial(trees.base.root);
    expect(keys.length).toBeGreaterThanOrEqual(16);
    const pem = readFileSync(join(trees.base.root, 'etc/kubernetes/pki/apiserver.key'), 'utf8');
    expect(leakedKeyChunk(pem, keys)).toBeDefined();
    expect(leakedKeyChunk(JSON.stringify({ msg: pem }), keys)).toBeDefined();
    expect(leakedKeyChunk(`x ${pem.split('\n')[5]} y`, keys)).toBeDefined();
    const conf = readFileSync(join(trees.base.root, 'etc/kubernetes/admin.conf'), 'utf8');
    expect(leakedKeyChunk(/client-key-data: (\S+)/.exec(conf)?.[1]?.slice(100, 140) ?? '', keys)).toBeDefined();
  });

  it.each(['json', 'text', 'journal'])('no private key material in logs or output (--log-format %s)', (format) => {
    const root = trees.copy('renewInterval: 30d\nrestart:\n  verify: false\n');
    const keysBefore = keyMaterial(root);
    // a damaged entry too, so error paths that name files are exercised
    copyFileSync(join(root, 'etc/kubernetes/pki/apiserver-kubelet-client.key'), join(root, 'etc/kubernetes/pki/front-proxy-client.key'));
    const outputs = [
      runCli(['--root', root, '--log-format', format, '-v', 'run']),
      runCli(['--root', root, '--log-format', format, '-v', 'renew', 'etcd-server', 'admin.conf']),
      runCli(['--root', root, '--log-format', format, '-v', 'rollback']),
      runCli(['--root', root, '--log-format', format, '-v', 'status', '-o', 'json']),
      runCli(['--root', root, '--log-format', format, '-v', 'plan', '-o', 'json']),
      runCli(['--root', root, '--log-format', format, '-v', 'status']),
    ];
    // the damaged entry makes every command report a failure but rollback and the renewal of two other entries
    // (`renew NAME...` concerns only the named entries, as kubeadm's `certs renew NAME` does)
    expect(outputs.map((o) => o.code)).toEqual([1, 0, 0, 1, 1, 1]);
    const all = outputs.map((o) => `${o.stdout}\n${o.stderr}`).join('\n');
    expect(all).toMatch(/renewed apiserver/);
    expect(all).not.toMatch(/PRIVATE KEY/);
    const keys = [...keysBefore, ...keyMaterial(root)]; // old, new and backed-up keys
    expect(leakedKeyChunk(all, keys)).toBeUndefined();
  });
});
