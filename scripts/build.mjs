#!/usr/bin/env node
// Builds dist/:
//   kube-cert-renewer.js        the whole program in one CommonJS file (also the single executable's input)
//   kube-cert-renewer.js.cache  V8 code cache for it, made by running the built-in demo once
//   kube-cert-renewer.cjs       the launcher (package.json "bin"): loads the program with that cache
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, chmodSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const program = join(root, 'dist/kube-cert-renewer.js');

await build({
  entryPoints: [join(root, 'src/cli.ts')],
  outfile: program,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  keepNames: true,
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
  execFileSync(process.execPath, [join(root, 'scripts/make-code-cache.cjs'), program], { stdio: ['ignore', 'ignore', 'pipe'] });
}
