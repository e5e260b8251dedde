'use strict';
// Makes a V8 code cache for the program bundle. Builds the built-in demo host in a child process, then, in this
// process, runs the commands of one kind on it and saves the cache, which by then holds every function they compiled.
//   read:   status and plan (what people and scripts run; the smaller its cache, the faster it starts)
//   write:  renew --all and status (what the timer runs)
// The launcher picks the cache by the command. Both caches belong to the same bundle.
// Usage: node scripts/make-code-cache.cjs dist/kube-cert-renewer.js read|write
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

async function makeCache() {
  const file = path.resolve(process.argv[2]);
  const kind = process.argv[3];
  const commands = {
    read: [['status'], ['status', '-o', 'json'], ['plan']],
    write: [['renew', '--all', '--log-format', 'journal'], ['status']],
  }[kind];
  if (!commands) throw new Error(`unknown cache kind ${kind}`);
  const launcher = path.join(path.dirname(file), 'kube-cert-renewer.cjs');
  const cacheFile = `${file}.${kind}.cache`;
  fs.rmSync(cacheFile, { force: true });
  const out = execFileSync(process.execPath, [launcher, 'demo', '--keep'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const tree = /The demo tree stays in (\S+)\.$/m.exec(out)?.[1];
  if (!tree) throw new Error(`the demo did not say where its tree is:\n${out}`);
  try {
    fs.writeFileSync(path.join(tree, 'etc/kube-cert-renewer/config.yaml'), 'restart:\n  enabled: false\n');
    const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'latin1')), { filename: file });
    const program = new Module(file, module);
    program.filename = file;
    program.paths = module.paths;
    process.env.KUBE_CERT_RENEWER_NO_AUTORUN = '1';
    script.runInThisContext().call(program.exports, program.exports, Module.createRequire(file), program, file, path.dirname(file));
    const quiet = () => undefined;
    for (const args of commands) await program.exports.main(['--root', tree, ...args], quiet, quiet);
    fs.writeFileSync(cacheFile, script.createCachedData());
  } finally {
    fs.rmSync(tree, { recursive: true, force: true });
  }
}

makeCache().catch((err) => {
  console.error(err);
  process.exit(1);
});
