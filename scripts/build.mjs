#!/usr/bin/env node
// Bundles the CLI into one CommonJS file (dist/kube-cert-renewer.cjs): one file starts faster than a module tree,
// and the same bundle feeds the single executable (scripts/build-binary.mjs).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

await build({
  entryPoints: [join(root, 'src/main.ts')],
  outfile: join(root, 'dist/kube-cert-renewer.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  keepNames: true,
  sourcemap: false,
  legalComments: 'linked',
  banner: { js: '#!/usr/bin/env node' },
  define: { __VERSION__: JSON.stringify(pkg.version) },
  // dbus-next's optional X11 transport and the usocket native addon are never used on a host agent.
  alias: { x11: join(root, 'src/ops/stub-module.cjs'), usocket: join(root, 'src/ops/stub-module.cjs') },
  logLevel: 'warning',
});
