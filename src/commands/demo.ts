/**
 * `demo`: the main job on a built-in host. Builds a kubeadm-shaped tree with certificates already due in a
 * temporary directory, shows `status`, runs `run` on it, and shows `status` again. Everything it prints fits 120
 * columns; paths into the temporary tree are printed only when it is kept (`--keep`).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Context, createContext } from '../cli/context.js';
import { buildDemoTree } from '../demo/tree.js';
import type { Logger } from '../ops/log.js';
import { wrap } from '../report/table.js';
import { renewalRun } from './run.js';
import { statusCommand } from './status.js';

const DEMO_CONFIG = `# The demo's configuration (see the README for every key).
apiVersion: kube-cert-renewer.io/v1alpha1
kind: RenewerConfiguration
renewInterval: 180d   # renew certificates issued more than 180 days ago
renewBefore: 30d      # and any with less than 30 days left
validity: 365d
restart:
  enabled: true
  verify: false       # nothing runs in the demo tree: annotate the manifests, do not wait for pods
  quorumGuard: false  # and there is no etcd cluster to ask
  clusterLock: false
`;

/** The run's log as short lines on the demo's output: each event's message, wrapped to 120 columns. */
function demoLogger(print: (text: string) => void): Logger {
  const pino = require('pino') as typeof import('pino').default;
  const LEVELS: Record<number, string> = { 40: 'warning: ', 50: 'error: ', 60: 'error: ' };
  return pino({ level: 'info', base: undefined, timestamp: false }, {
    write(line: string): void {
      const event = JSON.parse(line) as { level: number; msg?: string };
      print(`${wrap(`  ${LEVELS[event.level] ?? ''}${event.msg ?? ''}`, 118, '      ')}\n`);
    },
  });
}

/** Every manifest carrying the restart annotation, with its value. */
function annotatedManifests(dir: string, annotation: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const line = readFileSync(join(dir, name), 'utf8').split('\n').find((l) => l.trim().startsWith(`${annotation}:`));
    if (line) out.push(`  ${name}: ${line.trim()}`);
  }
  return out;
}

export async function demoCommand(parent: Context, keep: boolean): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), 'kube-cert-renewer-demo-'));
  const say = (text: string): void => parent.print(`\n=== ${wrap(text, 114, '    ')}\n\n`);
  // Without --keep the tree is gone when the demo ends: name it DEMO rather than print a path that will not exist.
  const shown = keep ? root : 'DEMO';
  try {
    buildDemoTree(root, new Date());
    mkdirSync(join(root, 'etc/kube-cert-renewer'), { recursive: true });
    writeFileSync(join(root, 'etc/kube-cert-renewer/config.yaml'), DEMO_CONFIG);
    const ctx = createContext({ root, output: parent.output, verbose: false, logFormat: 'text' }, parent.print, parent.printError);
    Object.defineProperty(ctx, 'log', { value: demoLogger(parent.print) });
    const where = keep ? `in ${root} (kept: demo --keep)` : 'in a temporary directory, DEMO below (removed at the end; keep it with demo --keep)';
    say(`A kubeadm control-plane node ${where}: leaves issued 300 days ago (old kubeadm, notBefore = the CA's), `
      + 'the API server\'s expired yesterday.');
    parent.print(`    kube-cert-renewer --root ${shown} status\n\n`);
    await statusCommand(ctx);
    say('Run: what the systemd timer runs daily.');
    parent.print(`    kube-cert-renewer --root ${shown} run\n\n`);
    if (!ctx.config.restart.verify) {
      parent.print(wrap('Verification is off in the demo (restart.verify: false): no control plane runs in the demo tree, so the run '
        + 'annotates the manifests and does not wait for the pods to serve the new certificates. On a node it waits.') + '\n\n');
    }
    const code = await renewalRun(ctx, { command: 'run', named: new Set() });
    say('Status after the run.');
    parent.print(`    kube-cert-renewer --root ${shown} status\n\n`);
    const after = await statusCommand(ctx);
    say('What the kubelet sees: the restart annotation in every manifest the run annotated');
    parent.print(`${annotatedManifests(ctx.paths.manifests, ctx.config.restart.annotation).join('\n')}\n`);
    if (keep) {
      parent.print(`\nBackups of every replaced file: ${join(root, 'var/lib/kube-cert-renewer/backups')}\n`);
      parent.print(`Check with openssl:\n  openssl verify -CAfile ${root}/etc/kubernetes/pki/ca.crt \\\n    ${root}/etc/kubernetes/pki/apiserver.crt\n`);
      parent.print(`\nThe demo tree stays in ${root}.\n`);
    } else {
      parent.print('\nThe demo tree is removed now (keep it, with its backups, with: demo --keep).\n');
    }
    return code || after;
  } finally {
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
}
