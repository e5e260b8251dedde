/**
 * hooks.postRenew: shell commands run after a successful run that renewed something, with what was renewed in the
 * environment. A failing hook is logged and makes the exit code 1; it never rolls back certificates that work.
 */
import { spawn } from 'node:child_process';
import type { Logger } from './log.js';

export interface HookContext {
  runId: string;
  renewed: string[];
  restarted: string[];
  root: string;
}

function runOne(command: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; signal: string | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let output = '';
    const collect = (d: Buffer): void => {
      if (output.length < 8192) output += d.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) => resolve({ code: 127, signal: null, output: err.message }));
    child.on('close', (code, signal) => resolve({ code, signal, output }));
  });
}

/** Run every hook in order; returns the number that failed. */
export async function runPostRenewHooks(commands: string[], ctx: HookContext, timeoutMs: number, log: Logger): Promise<number> {
  let failed = 0;
  const env = {
    ...process.env,
    KUBE_CERT_RENEWER_RUN_ID: ctx.runId,
    KUBE_CERT_RENEWER_RENEWED: ctx.renewed.join(' '),
    KUBE_CERT_RENEWER_RESTARTED: ctx.restarted.join(' '),
    KUBE_CERT_RENEWER_ROOT: ctx.root,
  };
  for (const command of commands) {
    const r = await runOne(command, env, timeoutMs);
    const output = r.output.trim().slice(0, 2000);
    if (r.code === 0) {
      log.info({ hook: command, ...(output ? { output } : {}) }, 'post-renew hook succeeded');
    } else {
      failed++;
      log.error(
        { hook: command, exitCode: r.code, signal: r.signal, ...(output ? { output } : {}) },
        r.signal ? `post-renew hook killed by ${r.signal} (timeout ${Math.round(timeoutMs / 1000)}s?)` : 'post-renew hook failed',
      );
    }
  }
  return failed;
}
