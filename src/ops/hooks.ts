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

/**
 * One hook under `/bin/sh -c`, in its own process group: on timeout the whole group is killed (the shell and what
 * it started), and once the shell has exited nothing it left running in the background can keep us waiting.
 */
function runOne(command: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; signal: string | null; timedOut: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let timedOut = false;
    let settled = false;
    const collect = (d: Buffer): void => {
      if (output.length < 8192) output += d.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const finish = (code: number | null, signal: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code, signal: timedOut ? 'SIGKILL' : signal, timedOut, output });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('error', (err) => {
      output = err.message;
      finish(127, null);
    });
    child.on('close', (code, signal) => finish(code, signal));
    // The shell exited but a background child still holds its stdout: take what came, stop waiting.
    child.on('exit', (code, signal) => setTimeout(() => finish(code, signal), 200));
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
        r.timedOut
          ? `post-renew hook did not finish within hooks.timeout (${Math.round(timeoutMs / 1000)}s): killed it and everything it started`
          : r.signal ? `post-renew hook killed by ${r.signal}` : 'post-renew hook failed',
      );
    }
  }
  return failed;
}
