#!/usr/bin/env node
// Builds build/kube-cert-renewer: one executable holding Node.js and the program (a Node single executable
// application), so a control-plane node needs no Node.js installed.
//
//   1. the program bundle (scripts/build.mjs): one CommonJS file
//   2. node --experimental-sea-config: the preparation blob (the bundle plus V8's code cache for it)
//   3. a copy of this node binary, stripped BEFORE injection (stripping an injected binary makes it segfault)
//   4. postject injects the blob as NODE_SEA_BLOB and flips the SEA fuse
//   5. the result must answer --version with the package's version, or the build fails
//
// Usage: node scripts/build-binary.mjs [--skip-bundle]   (--skip-bundle: reuse what is in dist/)
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const buildDir = join(root, 'build');
const work = join(buildDir, 'sea');
const output = join(buildDir, 'kube-cert-renewer');
const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function step(text) {
  process.stderr.write(`build-binary: ${text}\n`);
}

/** Runs a tool; its output is shown only when it fails. */
function run(file, args) {
  try {
    return execFileSync(file, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    process.stderr.write(`${err.stdout ?? ''}${err.stderr ?? ''}`);
    throw new Error(`${file} ${args.join(' ')} failed`);
  }
}

if (!process.argv.includes('--skip-bundle')) {
  step('bundling (scripts/build.mjs)');
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
}
// The whole program in one CommonJS file: dist/kube-cert-renewer.js where dist/kube-cert-renewer.cjs is only the
// launcher that loads it, else the .cjs itself. A leading #! line is fine: the SEA compiles the file as a script.
const program = ['dist/kube-cert-renewer.js', 'dist/kube-cert-renewer.cjs'].map((f) => join(root, f)).find((f) => existsSync(f));
if (!program) throw new Error('no program bundle in dist/: run npm run build');

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const blob = join(work, 'sea-prep.blob');
const seaConfig = join(work, 'sea-config.json');
writeFileSync(seaConfig, `${JSON.stringify({
  main: program,
  output: blob,
  disableExperimentalSEAWarning: true,
  // V8's code cache in the blob: start-up skips compiling the bundle's top level.
  useCodeCache: true,
}, null, 2)}\n`);
step(`preparation blob from ${relative(root, program)} (node ${process.version})`);
run(process.execPath, ['--experimental-sea-config', seaConfig]);

const partial = `${output}.partial`;
copyFileSync(process.execPath, partial);
chmodSync(partial, 0o755);
step(`stripping a copy of ${process.execPath}`);
run('strip', ['--strip-all', '--remove-section=.comment', partial]);

step('injecting the blob (postject)');
// postject's CLI in a child process, so its ELF parser's warnings about unnamed notes stay quiet unless it fails.
const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
run(process.execPath, [postject, partial, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SENTINEL_FUSE]);
renameSync(partial, output);

const version = run(output, ['--version']).trim();
if (version !== `kube-cert-renewer ${pkg.version}`) {
  throw new Error(`${relative(root, output)} --version printed ${JSON.stringify(version)}, not kube-cert-renewer ${pkg.version}`);
}
step(`${relative(root, output)}: ${(statSync(output).size / 1e6).toFixed(1)} MB, ${version}`);
