#!/usr/bin/env node
'use strict';
// kube-cert-renewer launcher: runs the program bundle (kube-cert-renewer.js) with the V8 code cache made for it at
// build time (kube-cert-renewer.js.cache), so start-up skips parsing and compiling. A missing or stale cache is
// simply not used.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const file = path.join(__dirname, 'kube-cert-renewer.js');
const source = fs.readFileSync(file, 'utf8');
let cachedData;
try {
  cachedData = fs.readFileSync(`${file}.cache`);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
const program = new Module(file, module);
program.filename = file;
program.paths = module.paths;
script.runInThisContext().call(program.exports, program.exports, Module.createRequire(file), program, file, __dirname);
