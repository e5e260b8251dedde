// The availability figure of `npm run bench`: a real three-member etcd cluster on loopback (Debian's etcd, one
// etcd-ca, three node roots, each member run by its stand-in kubelet: test/helpers/etcd-cluster.ts), the three
// nodes' `renew` of their etcd certificates started at the same moment, once with restart.mode auto and once with
// always. A prober asks every member's /health every 100 ms; reported: the seconds each local etcd endpoint was not
// serving (target 0 in auto), the moments two members were down together (quorum lost), and the restarts made per
// component (counted by the stand-ins, not by the product).
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ENTRIES = ['etcd-server', 'etcd-peer', 'etcd-healthcheck-client'];

async function helpers(repo, work) {
  const out = join(work, 'cluster-helpers.mjs');
  await build({
    stdin: {
      contents: "export * from './test/helpers/etcd-cluster.ts'; export * from './test/helpers/etcd-prober.ts';",
      resolveDir: repo, loader: 'ts',
    },
    outfile: out, bundle: true, platform: 'node', format: 'esm', logLevel: 'error',
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  return import(pathToFileURL(out).href);
}

function runCli(cli, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: '' } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

async function round(h, cli, cluster, mode) {
  for (const n of cluster.nodes) {
    mkdirSync(join(n.root, 'etc/kube-cert-renewer'), { recursive: true });
    writeFileSync(join(n.root, 'etc/kube-cert-renewer/config.yaml'), `restart:\n  mode: ${mode}\n  lockTTL: 10s\n`);
  }
  const starts = cluster.nodes.map((n) => n.kubelet.starts.length);
  const prober = new h.EtcdProber(cluster.nodes.map((n) => ({ name: n.name, metricsPort: n.ports.etcdMetrics })));
  const t = Date.now();
  const results = await Promise.all(cluster.nodes.map((n) => runCli(cli, ['--root', n.root, '--log-format', 'json', 'renew', ...ENTRIES])));
  const wall = (Date.now() - t) / 1000;
  await new Promise((r) => setTimeout(r, 300));
  const members = await prober.stop();
  const failed = results.findIndex((r) => r.code !== 0);
  if (failed >= 0) throw new Error(`${mode}: cp-${failed + 1} exited ${results[failed].code}:\n${results[failed].stderr.slice(-3000)}`);
  const down = h.downSeconds(members);
  return {
    mode, wall,
    down: Object.values(down),
    together: h.overlaps(members).reduce((s, o) => s + (o.to - o.from), 0) / 1000,
    restarts: cluster.nodes.reduce((s, n, i) => s + n.kubelet.starts.length - (starts[i] ?? 0), 0),
  };
}

/** Rows for bench.mjs's table: [measure, ours, baseline, ratio, target]. */
export async function availabilityRows(repo, work, cli) {
  if (!existsSync('/usr/bin/etcd')) return [['availability', 'skipped: no /usr/bin/etcd', '', '', '']];
  const h = await helpers(repo, work);
  const cluster = await h.startEtcdCluster(join(work, 'ha'));
  try {
    const auto = await round(h, cli, cluster, 'auto');
    const always = await round(h, cli, cluster, 'always');
    const secs = (xs) => xs.map((x) => x.toFixed(1)).join(' / ');
    return [
      ['etcd not serving, s per member (auto)', secs(auto.down), `always: ${secs(always.down)}`, '', '0'],
      ['two members down together, s (auto)', auto.together.toFixed(1), `always: ${always.together.toFixed(1)}`, '', '0'],
      ['etcd restarts, 3 nodes (auto)', String(auto.restarts), `always: ${always.restarts}`, '', '0'],
      ['3 nodes renew etcd certs at once (auto)', `${auto.wall.toFixed(1)} s`, `always: ${always.wall.toFixed(1)} s`, (auto.wall / always.wall).toFixed(2) + '×', ''],
    ];
  } finally {
    await cluster.stop();
  }
}
