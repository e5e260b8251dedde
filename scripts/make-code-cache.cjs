'use strict';
// Runs the program bundle in-process on the built-in demo (status, run, status on a temporary tree), then saves
// V8's code cache for it, which by then holds every function the demo compiled.
// Usage: node scripts/make-code-cache.cjs dist/kube-cert-renewer.js
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const file = path.resolve(process.argv[2]);
const source = fs.readFileSync(file, 'utf8');
const script = new vm.Script(Module.wrap(source), { filename: file });
const program = new Module(file, module);
program.filename = file;
program.paths = module.paths;
process.argv = [process.argv[0], file, 'demo'];
process.once('beforeExit', () => {
  fs.writeFileSync(`${file}.cache`, script.createCachedData());
  process.exitCode = 0;
});
script.runInThisContext().call(program.exports, program.exports, Module.createRequire(file), program, file, path.dirname(file));
