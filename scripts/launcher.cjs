#!/usr/bin/env node
'use strict';
// kube-cert-renewer launcher: runs the program bundle (kube-cert-renewer.js) with a V8 code cache made for it at
// build time, so start-up skips parsing and compiling: the read cache for status and plan (small, so it loads fast),
// the write cache for everything else. A wrong guess only costs speed; a missing or stale cache is not used.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const file = path.join(__dirname, 'kube-cert-renewer.js');
// The bundle is ASCII (esbuild escapes the rest), so latin1 decodes it to the same string, faster.
const source = fs.readFileSync(file, 'latin1');
const readOnly = process.argv.includes('status') || process.argv.includes('plan');
let cachedData;
try {
  cachedData = fs.readFileSync(`${file}.${readOnly ? 'read' : 'write'}.cache`);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
const program = new Module(file, module);
program.filename = file;
program.paths = module.paths;
script.runInThisContext().call(program.exports, program.exports, Module.createRequire(file), program, file, __dirname);
