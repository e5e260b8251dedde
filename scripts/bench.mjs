#!/usr/bin/env node
// npm run bench: performance figures as ratios against baselines measured in the same run, on one fixture tree
// made with the openssl CLI (test/helpers/kubeadm-fixture.ts).
//   status   `kube-cert-renewer status` wall time  vs  bare `node -e 0`
//   renewal  `kube-cert-renewer renew --all` (11 certificates: keys, signatures, backups, atomic writes, journal)
//            vs  a shell script making the same 11 keys and 11 signatures with the openssl CLI
//   memory   peak RSS of both commands
//   binary   the single executable's start-up, when build/kube-cert-renewer exists (npm run build:binary)
//   availability  three real etcd members renewing at once, auto vs always: seconds each member was not serving,
//            seconds two were down together, restarts made (scripts/bench-availability.mjs; BENCH_AVAILABILITY=0 skips)
// Every measure is also taken, interleaved in the same run, on the bundle of BENCH_BEFORE (default: the last commit
// with the home-made DER reader and YAML fast paths), built from `git archive` of that commit, so the ratios after
// the change print beside the ratios before it. BENCH_BEFORE=none skips that.
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { availabilityRows } from './bench-availability.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(repo, 'dist/kube-cert-renewer.cjs');
const BINARY = join(repo, 'build/kube-cert-renewer');
const work = mkdtempSync(join(tmpdir(), 'kcr-bench-'));
const STATUS_RUNS = Number(process.env.BENCH_STATUS_RUNS ?? 31);
const RENEW_RUNS = Number(process.env.BENCH_RENEW_RUNS ?? 7);
// The last commit before "YAML: one parser" and "One certificate reader" (issue 8 §2).
const BEFORE = process.env.BENCH_BEFORE ?? '4a55c7c51d466ba636ea9082b3b9d4070e89a299';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Wall time (ms), peak RSS (KiB) and CPU time (user+sys, ms; from the kernel's rusage of the child) of one command. */
function measure(cmd, args, opts = {}) {
  const probe = `import resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
ms = (time.perf_counter() - t) * 1000
if r.returncode != 0:
    sys.stderr.write(r.stderr.decode()); sys.exit(r.returncode)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(ms, u.ru_maxrss, (u.ru_utime + u.ru_stime) * 1000)`;
  const r = spawnSync('python3', ['-c', probe, cmd, ...args], { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  const [ms, rss, cpu] = r.stdout.trim().split(/\s+/).map(Number);
  return { ms, rssKiB: rss, cpuMs: cpu };
}

async function fixture() {
  const out = join(work, 'fixture.mjs');
  await build({ entryPoints: [join(repo, 'test/helpers/kubeadm-fixture.ts')], outfile: out, bundle: true, platform: 'node', format: 'esm', logLevel: 'error' });
  const { createKubeadmTree } = await import(pathToFileURL(out).href);
  const fx = await createKubeadmTree(join(work, 'tree'), { issuedDaysAgo: 40 });
  mkdirSync(join(fx.root, 'etc/kube-cert-renewer'), { recursive: true });
  writeFileSync(join(fx.root, 'etc/kube-cert-renewer/config.yaml'), 'restart:\n  enabled: false\n');
  return fx;
}

/** The CLI as built from BEFORE's tree (its own scripts/build.mjs, this checkout's node_modules), or why not. */
function buildBefore() {
  if (BEFORE === 'none') return { reason: 'BENCH_BEFORE=none' };
  const dir = join(work, 'before');
  mkdirSync(dir);
  try {
    execFileSync('sh', ['-c', 'git -C "$1" archive --format=tar "$2" | tar -x -C "$3"', 'sh', repo, BEFORE, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
    execFileSync(process.execPath, [join(dir, 'scripts/build.mjs')], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    return { cli: join(dir, 'dist/kube-cert-renewer.cjs') };
  } catch (err) {
    return { reason: `cannot build ${BEFORE.slice(0, 12)}: ${String(err.stderr ?? err.message).trim().split('\n')[0]}` };
  }
}

/**
 * Home-made candidates, each in place of the library code it would replace: the bench builds this tree once more
 * with the candidate file swapped in and measures both side by side. A candidate is adopted only with a gain of
 * 15% or more on the measure it serves.
 */
const CANDIDATES = [{
  name: 'kubeconfig base64 lift-out',
  serves: 'status',
  file: 'src/inventory/kubeconfig-yaml.ts',
  candidate: 'scripts/bench-candidates/kubeconfig-yaml.lift-out.ts',
}];

/** This tree built once more with `c.candidate` in place of `c.file`. */
function buildWith(c, i) {
  const dir = join(work, `candidate-${i}`);
  for (const part of ['src', 'scripts', 'package.json']) cpSync(join(repo, part), join(dir, part), { recursive: true });
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  cpSync(join(repo, c.candidate), join(dir, c.file));
  execFileSync(process.execPath, [join(dir, 'scripts/build.mjs')], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  return join(dir, 'dist/kube-cert-renewer.cjs');
}

// The openssl baseline: what a renewal script does per certificate — a new key, then one signature by the CA.
const LEAVES = [
  ['admin.conf', 'ca', '/O=kubeadm:cluster-admins/CN=kubernetes-admin', 'clientAuth'],
  ['apiserver', 'ca', '/CN=kube-apiserver', 'serverAuth', 'DNS:cp-1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1,IP:127.0.0.1'],
  ['apiserver-etcd-client', 'etcd/ca', '/CN=kube-apiserver-etcd-client', 'clientAuth'],
  ['apiserver-kubelet-client', 'ca', '/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client', 'clientAuth'],
  ['controller-manager.conf', 'ca', '/CN=system:kube-controller-manager', 'clientAuth'],
  ['etcd-healthcheck-client', 'etcd/ca', '/CN=kube-etcd-healthcheck-client', 'clientAuth'],
  ['etcd-peer', 'etcd/ca', '/CN=cp-1', 'serverAuth,clientAuth', 'DNS:cp-1,DNS:localhost,IP:127.0.0.1,IP:::1'],
  ['etcd-server', 'etcd/ca', '/CN=cp-1', 'serverAuth,clientAuth', 'DNS:cp-1,DNS:localhost,IP:127.0.0.1,IP:::1'],
  ['front-proxy-client', 'front-proxy-ca', '/CN=front-proxy-client', 'clientAuth'],
  ['scheduler.conf', 'ca', '/CN=system:kube-scheduler', 'clientAuth'],
  ['super-admin.conf', 'ca', '/O=system:masters/CN=kubernetes-super-admin', 'clientAuth'],
];

function opensslScript(pki, out) {
  const lines = ['#!/bin/sh', 'set -e', `mkdir -p '${out}'`];
  for (const [name, ca, subj, eku, san] of LEAVES) {
    lines.push(`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out '${out}/${name}.key' 2>/dev/null`);
    lines.push(
      `openssl req -x509 -new -key '${out}/${name}.key' -subj '${subj}' -CA '${pki}/${ca}.crt' -CAkey '${pki}/${ca}.key' -days 365 ` +
        `-addext 'keyUsage=critical,digitalSignature,keyEncipherment' -addext 'extendedKeyUsage=${eku}' -addext 'basicConstraints=critical,CA:FALSE'` +
        (san ? ` -addext 'subjectAltName=${san}'` : '') + ` -out '${out}/${name}.crt'`,
    );
  }
  const file = join(work, 'renew-with-openssl.sh');
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o755 });
  return file;
}

function pct(n) {
  return `${n.toFixed(2)}×`;
}

const fx = await fixture();
const before = buildBefore();
console.log(`fixture: ${fx.root} (RSA-2048, kubeadm layout, ${LEAVES.length} renewable leaves); node ${process.version}; ${os()}`);
console.log(before.cli ? `before: ${BEFORE.slice(0, 12)}, built from git in the same run` : `before: not measured (${before.reason})`);
const clis = { after: CLI, ...(before.cli ? { before: before.cli } : {}) };
const variants = CANDIDATES.map((c, i) => ({ ...c, key: `candidate-${i}`, cli: buildWith(c, i) }));
const statusClis = { ...clis, ...Object.fromEntries(variants.map((v) => [v.key, v.cli])) };

// Status against bare node start, interleaved so drift hits every side alike.
const bare = [];
const bareCpu = [];
const statusCpu = Object.fromEntries(Object.keys(statusClis).map((k) => [k, []]));
const status = Object.fromEntries(Object.keys(statusClis).map((k) => [k, []]));
const statusRss = { after: 0, before: 0 };
for (let i = 0; i < STATUS_RUNS; i++) {
  const b = measure(process.execPath, ['-e', '0']);
  bare.push(b.ms);
  bareCpu.push(b.cpuMs);
  const order = i % 2 ? Object.keys(statusClis) : Object.keys(statusClis).reverse();
  for (const side of order) {
    const s = measure(process.execPath, [statusClis[side], '--root', fx.root, 'status']);
    status[side].push(s.ms);
    statusCpu[side].push(s.cpuMs);
    statusRss[side] = Math.max(statusRss[side] ?? 0, s.rssKiB);
  }
}

// The same without NODE_EXTRA_CA_CERTS, when the environment sets it: node then parses every certificate of that
// bundle at start (about 140 here, some 40 ms), which inflates the bare baseline. The unit runs without it.
const extraCa = Boolean(process.env.NODE_EXTRA_CA_CERTS);
const cleanEnv = { ...process.env };
delete cleanEnv.NODE_EXTRA_CA_CERTS;
const bareClean = [];
const statusClean = Object.fromEntries(Object.keys(clis).map((k) => [k, []]));
for (let i = 0; extraCa && i < STATUS_RUNS; i++) {
  bareClean.push(measure(process.execPath, ['-e', '0'], { env: cleanEnv }).ms);
  for (const side of i % 2 ? Object.keys(clis) : Object.keys(clis).reverse()) {
    statusClean[side].push(measure(process.execPath, [clis[side], '--root', fx.root, 'status'], { env: cleanEnv }).ms);
  }
}

// Renewal against the openssl script, each on a fresh copy of the same tree.
const ours = { after: [], before: [] };
const script = [];
const renewRss = { after: 0, before: 0 };
for (let i = 0; i < RENEW_RUNS; i++) {
  const runs = Object.keys(clis).map((side) => () => {
    const copy = join(work, `copy-${side}-${i}`);
    cpSync(fx.root, copy, { recursive: true, verbatimSymlinks: true });
    const r = measure(process.execPath, [clis[side], '--root', copy, 'renew', '--all']);
    ours[side].push(r.ms);
    renewRss[side] = Math.max(renewRss[side], r.rssKiB);
    rmSync(copy, { recursive: true, force: true });
  });
  const base = () => {
    const copy = join(work, `copy-openssl-${i}`);
    cpSync(fx.root, copy, { recursive: true, verbatimSymlinks: true });
    script.push(measure('/bin/sh', [opensslScript(join(copy, 'etc/kubernetes/pki'), join(work, `openssl-${i}`))]).ms);
    rmSync(copy, { recursive: true, force: true });
  };
  for (const step of i % 2 ? [...runs, base] : [base, ...runs.reverse()]) step();
}

const ms = (xs) => `${median(xs).toFixed(0)} ms`;
const mb = (kib) => `${(kib / 1024).toFixed(1)} MB`;
const sides = (f) => [before.cli ? f('before') : '-', f('after')];
const rows = [
  ['status wall time', ...sides((k) => ms(status[k])), `node -e 0: ${ms(bare)}`, ...sides((k) => pct(median(status[k]) / median(bare))), '≤ 1.30×'],
  ...(extraCa ? [['status wall, NODE_EXTRA_CA_CERTS unset', ...sides((k) => ms(statusClean[k])), `node -e 0: ${ms(bareClean)}`, ...sides((k) => pct(median(statusClean[k]) / median(bareClean))), '(reported)']] : []),
  ['status CPU time (user+sys)', ...sides((k) => ms(statusCpu[k])), `node -e 0: ${ms(bareCpu)}`, ...sides((k) => pct(median(statusCpu[k]) / median(bareCpu))), '(reported)'],
  ['renewal of 11 (keys+signatures)', ...sides((k) => ms(ours[k])), `openssl script: ${ms(script)}`, ...sides((k) => pct(median(ours[k]) / median(script))), '≤ 0.60×'],
  ['peak RSS, status', ...sides((k) => mb(statusRss[k])), '', '', '', '≤ 100 MB'],
  ['peak RSS, renewal', ...sides((k) => mb(renewRss[k])), '', '', '', '≤ 100 MB'],
];
if (existsSync(BINARY)) {
  const bin = [];
  const binBare = [];
  for (let i = 0; i < STATUS_RUNS; i++) {
    binBare.push(measure(process.execPath, ['-e', '0']).ms);
    bin.push(measure(BINARY, ['--root', fx.root, 'status']).ms);
  }
  rows.push(['single binary: status', '', ms(bin), `node -e 0: ${ms(binBare)}`, '', pct(median(bin) / median(binBare)), '']);
}

if (process.env.BENCH_AVAILABILITY !== '0') {
  // [measure, ours, baseline, ratio, target] → this table's columns (the availability figure has no "before")
  for (const [measure, ours, base, ratio, target] of await availabilityRows(repo, work, CLI)) rows.push([measure, '', ours, base, '', ratio, target]);
}

const header = ['measure', 'before', 'after', 'baseline (same run)', 'ratio before', 'ratio after', 'target'];
const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i].length)));
const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
console.log(`\nmedians of ${STATUS_RUNS} status and ${RENEW_RUNS} renewal runs per side, interleaved\n`);
console.log(line(header));
for (const r of rows) console.log(line(r));
if (extraCa) {
  console.log(`\nNODE_EXTRA_CA_CERTS is set here (${process.env.NODE_EXTRA_CA_CERTS}): every node start, bare or not, parses
that bundle first. The first status row keeps it (the baseline the target was set against); the second is the
start a systemd unit sees. What status adds over bare start is the difference of the medians in either row.`);
}
console.log(`\nOne parser per format: YAML by js-yaml, certificates by node:crypto's X509Certificate (node-forge's ASN.1
decoder only for the encoded parts and extensions it does not expose). Home-made candidates against the library,
on the measure each serves (adopted only with a gain of 15% or more):`);
for (const v of variants) {
  const gain = median(status.after) / median(status[v.key]) - 1;
  const cpuGain = median(statusCpu.after) / median(statusCpu[v.key]) - 1;
  console.log(`  ${v.name} (${v.candidate}): ${v.serves} ${ms(status[v.key])} vs ${ms(status.after)} with the library, ` +
    `${(gain * 100).toFixed(0)}% gain (CPU ${(cpuGain * 100).toFixed(0)}%): ${gain >= 0.15 ? 'ADOPT IT' : 'not adopted'}`);
}
rmSync(work, { recursive: true, force: true });

function os() {
  try {
    return `${execFileSync('nproc', { encoding: 'utf8' }).trim()} CPUs`;
  } catch {
    return '';
  }
}
