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
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Wall time (ms) and peak RSS (KiB, from the kernel's rusage of the child) of one command. */
function measure(cmd, args, opts = {}) {
  const probe = `import resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
ms = (time.perf_counter() - t) * 1000
if r.returncode != 0:
    sys.stderr.write(r.stderr.decode()); sys.exit(r.returncode)
print(ms, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)`;
  const r = spawnSync('python3', ['-c', probe, cmd, ...args], { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  const [ms, rss] = r.stdout.trim().split(/\s+/).map(Number);
  return { ms, rssKiB: rss };
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
console.log(`fixture: ${fx.root} (RSA-2048, kubeadm layout, ${LEAVES.length} renewable leaves); node ${process.version}; ${os()}`);

// Status against bare node start, interleaved so drift hits both alike.
const bare = [];
const status = [];
let statusRss = 0;
for (let i = 0; i < STATUS_RUNS; i++) {
  bare.push(measure(process.execPath, ['-e', '0']).ms);
  const s = measure(process.execPath, [CLI, '--root', fx.root, 'status']);
  status.push(s.ms);
  statusRss = Math.max(statusRss, s.rssKiB);
}

// Renewal against the openssl script, each on a fresh copy of the same tree.
const ours = [];
const script = [];
let renewRss = 0;
for (let i = 0; i < RENEW_RUNS; i++) {
  const copy = join(work, `copy-${i}`);
  cpSync(fx.root, copy, { recursive: true, verbatimSymlinks: true });
  const sh = opensslScript(join(copy, 'etc/kubernetes/pki'), join(work, `openssl-${i}`));
  const run = () => {
    const r = measure(process.execPath, [CLI, '--root', copy, 'renew', '--all']);
    ours.push(r.ms);
    renewRss = Math.max(renewRss, r.rssKiB);
  };
  const base = () => script.push(measure('/bin/sh', [sh]).ms);
  if (i % 2) { run(); base(); } else { base(); run(); }
  rmSync(copy, { recursive: true, force: true });
}

const rows = [
  ['status wall time', `${median(status).toFixed(0)} ms`, `node -e 0: ${median(bare).toFixed(0)} ms`, pct(median(status) / median(bare)), '≤ 1.30×'],
  ['renewal of 11 (keys+signatures)', `${median(ours).toFixed(0)} ms`, `openssl script: ${median(script).toFixed(0)} ms`, pct(median(ours) / median(script)), '≤ 0.60×'],
  ['peak RSS, status', `${(statusRss / 1024).toFixed(1)} MB`, '', '', '≤ 100 MB'],
  ['peak RSS, renewal', `${(renewRss / 1024).toFixed(1)} MB`, '', '', '≤ 100 MB'],
];
if (existsSync(BINARY)) {
  const bin = [];
  const binBare = [];
  for (let i = 0; i < STATUS_RUNS; i++) {
    binBare.push(measure(process.execPath, ['-e', '0']).ms);
    bin.push(measure(BINARY, ['--root', fx.root, 'status']).ms);
  }
  rows.push(['single binary: status', `${median(bin).toFixed(0)} ms`, `node -e 0: ${median(binBare).toFixed(0)} ms`, pct(median(bin) / median(binBare)), '']);
}

if (process.env.BENCH_AVAILABILITY !== '0') rows.push(...(await availabilityRows(repo, work, CLI)));

const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...[['measure', 'ours', 'baseline (same run)', 'ratio', 'target'], ...rows].map((r) => r[i].length)));
const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
console.log(`\nmedians of ${STATUS_RUNS} status and ${RENEW_RUNS} renewal runs\n`);
console.log(line(['measure', 'ours', 'baseline (same run)', 'ratio', 'target']));
for (const r of rows) console.log(line(r));
rmSync(work, { recursive: true, force: true });

function os() {
  try {
    return `${execFileSync('nproc', { encoding: 'utf8' }).trim()} CPUs`;
  } catch {
    return '';
  }
}
