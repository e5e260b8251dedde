/**
 * What `status` loads: the read-only commands never load the network stack (node:https, node:tls), which
 * only restarts, probes and the cluster lock need. Loading it costs about 6 ms of every `status` (npm run bench);
 * an eager import anywhere under the command's module graph brings it back, so the built bundle is checked here.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/cli.js';
import { useFixtureCopies } from './helpers/host-trees.js';

const copies = useFixtureCopies({ issuedDaysAgo: 40 });
const dir = mkdtempSync(join(tmpdir(), 'kcr-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let runs = 0;
/** The built-in modules a command loaded, from a preload that writes process.moduleLoadList at exit. */
function builtinsLoaded(args: string[]): string[] {
  const preload = join(dir, 'modules.cjs');
  const out = join(dir, `modules-${++runs}.txt`);
  writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, process.moduleLoadList.join('\\n')));\n`);
  const r = spawnSync(process.execPath, ['-r', preload, CLI, ...args], { encoding: 'utf8' });
  expect(r.status, r.stderr).not.toBeNull();
  return readFileSync(out, 'utf8').split('\n').filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
}

describe('start-up', () => {
  it('status, with restarts owed and JSON output, loads no network module', () => {
    const root = copies.copy('restart:\n  enabled: false\n');
    expect(spawnSync(process.execPath, [CLI, '--root', root, 'renew', 'apiserver'], { encoding: 'utf8' }).status).toBe(0);
    for (const args of [['--root', root, 'status'], ['--root', root, 'status', '-o', 'json'], ['--root', root, 'plan']]) {
      const loaded = builtinsLoaded(args);
      expect(loaded, 'the preload saw the command run').toContain('crypto');
      // (node:net itself comes with any piped stdout, so it is not a sign of the network stack here)
      expect(loaded.filter((m) => ['https', 'tls', 'http', '_tls_wrap', '_http_client'].includes(m)), args.join(' ')).toEqual([]);
    }
  });

  it('the check sees a network module when one is loaded (negative control)', () => {
    // a renewal with restarts on probes the restarted server over TLS (none answers here: it fails, and rolls back)
    const root = copies.copy('restart:\n  verifyTimeout: 1s\n');
    const loaded = builtinsLoaded(['--root', root, 'renew', 'apiserver']);
    expect(loaded).toContain('https');
  });
});
