#!/usr/bin/env node
// Builds dist/:
//   kube-cert-renewer.js        the whole program in one CommonJS file (also the single executable's input)
//   kube-cert-renewer.js.{read,write}.cache  V8 code caches for it: one made by running status and plan on the
//                               built-in demo host, one by renewing it (scripts/make-code-cache.cjs)
//   kube-cert-renewer.cjs       the launcher (package.json "bin"): loads the program with the cache for its command
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, chmodSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const program = join(root, 'dist/kube-cert-renewer.js');
rmSync(join(root, 'dist'), { recursive: true, force: true }); // no stale cache or bundle survives a build

await build({
  entryPoints: [join(root, 'src/cli.ts')],
  outfile: program,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: !process.argv.includes('--no-minify'),
  keepNames: true,
  charset: 'ascii', // the launcher reads the bundle as latin1
  legalComments: 'linked',
  define: { __VERSION__: JSON.stringify(pkg.version) },
  // dbus-next's optional X11 transport and the usocket native addon are never used on a host agent.
  alias: { x11: join(root, 'src/ops/stub-module.cjs'), usocket: join(root, 'src/ops/stub-module.cjs') },
  logLevel: 'warning',
});

const launcher = join(root, 'dist/kube-cert-renewer.cjs');
copyFileSync(join(root, 'scripts/launcher.cjs'), launcher);
chmodSync(launcher, 0o755);
if (!process.argv.includes('--no-cache')) {
  try {
    for (const kind of ['read', 'write']) {
      execFileSync(process.execPath, [join(root, 'scripts/make-code-cache.cjs'), program, kind], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
  } catch (err) {
    console.error(`making the code cache failed:\n${err.stderr ?? err.message}`);
    process.exit(1);
  }
}
