/**
 * `demo`: the main job on a built-in host. Builds a kubeadm-shaped tree with certificates already due in a
 * temporary directory, shows `status`, runs `run` on it, and shows `status` again.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Context, createContext } from '../cli/context.js';
import { buildDemoTree } from '../demo/tree.js';
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

export async function demoCommand(parent: Context, keep: boolean): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), 'kube-cert-renewer-demo-'));
  const say = (text: string): void => parent.print(`\n=== ${text}\n\n`);
  try {
    buildDemoTree(root, new Date());
    mkdirSync(join(root, 'etc/kube-cert-renewer'), { recursive: true });
    writeFileSync(join(root, 'etc/kube-cert-renewer/config.yaml'), DEMO_CONFIG);
    const ctx = createContext({ root, output: parent.output, verbose: false, logFormat: 'text' }, parent.print, parent.printError);
    say(`A kubeadm control-plane node in ${root}: leaves issued 300 days ago (old kubeadm, notBefore = the CA's), the API server's expired yesterday.\n    kube-cert-renewer --root ${root} status`);
    await statusCommand(ctx);
    say(`kube-cert-renewer --root ${root} run    (what the systemd timer runs daily)`);
    const code = await renewalRun(ctx, { command: 'run', named: new Set() });
    say(`kube-cert-renewer --root ${root} status    (after the run)`);
    const after = await statusCommand(ctx);
    const annotated = readFileSync(join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8')
      .split('\n').filter((l) => l.includes(ctx.config.restart.annotation));
    say('What the kubelet sees: the restart annotation in each affected manifest');
    parent.print(`kube-apiserver.yaml:${annotated.map((l) => `\n  ${l.trim()}`).join('')}\n`);
    parent.print(`\nBackups of every replaced file: ${join(root, 'var/lib/kube-cert-renewer/backups')}\n`);
    parent.print(`Check with openssl: openssl verify -CAfile ${root}/etc/kubernetes/pki/ca.crt ${root}/etc/kubernetes/pki/apiserver.crt\n`);
    parent.print(keep ? `\nThe demo tree stays in ${root}.\n` : `\nThe demo tree is removed (keep it with: demo --keep).\n`);
    return code || after;
  } finally {
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
}
