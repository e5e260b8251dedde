/**
 * kubeadm renews certificates and rewrites static pod manifests itself (`kubeadm upgrade apply|node`, `certs renew`,
 * `init phase ...`). A run never races it: while a kubeadm process runs on the node, the run waits (kubeadm.wait),
 * then defers to the next timer run, and says so. The process table is the host's: <root>/proc, so --root aimed at a
 * container's filesystem looks at the container's processes.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ApplyDeps } from './deps.js';

export interface KubeadmProcess {
  pid: number;
  command: string;
}

/** kubeadm processes in `procDir` (pid and command line), none when the directory cannot be read. */
export function kubeadmProcesses(procDir: string): KubeadmProcess[] {
  let pids: string[];
  try {
    pids = readdirSync(procDir).filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const out: KubeadmProcess[] = [];
  for (const pid of pids) {
    try {
      const argv = readFileSync(join(procDir, pid, 'cmdline'), 'utf8').split('\0').filter(Boolean);
      if (basename(argv[0] ?? '') === 'kubeadm') out.push({ pid: Number(pid), command: argv.join(' ') });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Wait while kubeadm runs, up to `deps.config.kubeadm.wait`. Returns the kubeadm process still running after the
 * wait (the run must defer), or undefined when none runs (any more).
 */
export async function waitForKubeadm(deps: Pick<ApplyDeps, 'config' | 'log' | 'notify' | 'paths'>, pollMs = 1_000): Promise<KubeadmProcess | undefined> {
  const procDir = join(deps.paths.root, 'proc');
  const deadline = Date.now() + deps.config.kubeadm.wait;
  let said = false;
  for (;;) {
    const running = kubeadmProcesses(procDir)[0];
    if (!running) return undefined;
    if (!said) {
      said = true;
      const text = `kubeadm is running (pid ${running.pid}: ${running.command}); waiting up to ${Math.round(deps.config.kubeadm.wait / 1000)}s for it to finish`;
      deps.log.warn({ pid: running.pid, command: running.command }, text);
      await deps.notify(text);
    }
    if (Date.now() >= deadline) return running;
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
  }
}
