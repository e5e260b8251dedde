/**
 * The CLI's non-process behaviour, in-process: `main(argv, out, err)` with captured streams. Status, plan, usage
 * and configuration errors need no child process; what only a process shows (signals, SIGKILL recovery, the lock,
 * exit codes of the bundle) stays in the spawned-CLI tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { runCli, snapshotFiles } from './helpers/cli.js';
import { useFixtureCopies } from './helpers/host-trees.js';
import { assertMatchesSchema, matchesSchema } from './helpers/schemas.js';

const trees = useFixtureCopies({ issuedDaysAgo: 40 });

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, (s) => {
    out += s;
    return true;
  }, (s) => {
    err += s;
    return true;
  });
  return { code, out, err };
}

describe('in-process CLI', () => {
  it('status -o json: the contract, printed to the out stream only', async () => {
    const root = trees.copy('renewInterval: 30d\n');
    const r = await run(['--root', root, 'status', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const report = JSON.parse(r.out) as { summary: { due: number } };
    assertMatchesSchema('status', report);
    expect(report.summary.due).toBeGreaterThan(0);
  });

  it('plan -o json: the contract; the tree is byte-identical afterwards', async () => {
    const root = trees.copy('renewInterval: 30d\n');
    const before = snapshotFiles(root);
    const r = await run(['--root', root, 'plan', '-o', 'json']);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.out) as { renew: Array<{ name: string }> };
    assertMatchesSchema('plan', plan);
    expect(plan.renew.map((i) => i.name)).toContain('apiserver');
    expect(snapshotFiles(root)).toEqual(before);
  });

  it('a configuration error goes to the error stream, names the file and key, exit 2', async () => {
    const root = trees.copy('renewIntervall: 30d\n');
    const r = await run(['--root', root, 'status']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain(join(root, 'etc/kube-cert-renewer/config.yaml'));
    expect(r.err).toMatch(/renewIntervall: unknown key/);
  });

  it('usage errors: unknown command, bad --output, renew without names', async () => {
    expect(await run(['frobnicate'])).toMatchObject({ code: 2, out: '' });
    const badOutput = await run(['status', '-o', 'yaml']);
    expect(badOutput.code).toBe(2);
    expect(badOutput.err).toMatch(/--output "yaml": use table, wide or json/);
    const renew = await run(['--root', trees.copy(''), 'renew']);
    expect(renew.code).toBe(2);
    expect(renew.err).toMatch(/name the entries to renew, or pass --all/);
  });

  it('logs go to the error stream main was given, never to stdout', async () => {
    const root = trees.copy('renewInterval: 30d\nmode: monitor\n');
    const r = await run(['--root', root, '--log-format', 'json', 'run']);
    const lines = r.err.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(lines.some((l) => /renewal due/.test(l.msg))).toBe(true);
    expect(r.out).toBe('');
  });
});

describe('JSON contracts', () => {
  it('reject what breaks them (negative control): a timestamp without Z, an unknown field', async () => {
    const root = trees.copy('');
    const good = JSON.parse((await run(['--root', root, 'status', '-o', 'json'])).out) as Record<string, unknown>;
    expect(matchesSchema('status', good)).toBe(true);
    expect(matchesSchema('status', { ...good, generatedAt: '2026-12-02T10:00:00+01:00' })).toBe(false);
    expect(matchesSchema('status', { ...good, surprise: 1 })).toBe(false);
  });

  it('hold under a non-UTC local time zone (the spawned CLI, TZ=America/New_York)', () => {
    const root = trees.copy('renewInterval: 30d\n');
    const status = runCli(['--root', root, 'status', '-o', 'json'], { TZ: 'America/New_York' });
    assertMatchesSchema('status', JSON.parse(status.stdout));
    const plan = runCli(['--root', root, 'plan', '-o', 'json'], { TZ: 'America/New_York' });
    assertMatchesSchema('plan', JSON.parse(plan.stdout));
  });

  it('ship in the repository where the packages take them', () => {
    for (const f of ['status.schema.json', 'plan.schema.json']) {
      const schema = JSON.parse(readFileSync(join(__dirname, '..', 'schemas', f), 'utf8')) as { $schema: string };
      expect(schema.$schema).toMatch(/2020-12/);
    }
  });
});
