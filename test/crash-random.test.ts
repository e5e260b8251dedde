/**
 * Random-instant SIGKILL trials with restarts on: `run` is killed at a random moment of its life (from start-up to
 * the end of its restarts), then run again; the tree must converge every time (test/helpers/crash.ts: pairs match
 * and verify with openssl, each due certificate renewed exactly once and recorded once, restarts owed made, no
 * temporary file anywhere under /etc/kubernetes or the state directory). Prints the trial count and the converged
 * fraction. KCR_CRASH_TRIALS and KCR_CRASH_SEED repeat or widen a run.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from './helpers/cli.js';
import { convergenceProblems, serialsOf } from './helpers/crash.js';
import { useFixtureCopies } from './helpers/host-trees.js';

const CONFIG = 'renewInterval: 30d\nrenewBefore: 20d\nvalidity: 200d\nrestart:\n  enabled: true\n  verify: false\n';
const TRIALS = Number(process.env.KCR_CRASH_TRIALS ?? 50);
const SEED = Number(process.env.KCR_CRASH_SEED ?? Date.now() % 100_000);
// ECDSA keys: generating them costs nothing, so more of each run's life is the write steps the kills should hit.
const trees = useFixtureCopies({ issuedDaysAgo: 40, keyAlgorithm: 'ecdsa-p256' });

/** mulberry32: a small seeded generator, so a failing trial can be repeated with KCR_CRASH_SEED. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Run the CLI and SIGKILL it after `ms` (unless it ended first); resolves with whether the kill landed, and the time it ran. */
function runKilledAfter(root: string, ms: number): Promise<{ killed: boolean; elapsed: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, '--root', root, 'run'], {
      env: { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: '' }, stdio: 'ignore',
    });
    const timer = ms >= 0 ? setTimeout(() => child.kill('SIGKILL'), ms) : undefined;
    child.on('close', (_code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', elapsed: Date.now() - started });
    });
  });
}

interface Trial {
  delay: number;
  killed: boolean;
  problems: string[];
}

async function trial(delay: number): Promise<Trial> {
  const root = trees.copy(CONFIG);
  const before = serialsOf(trees.base, root);
  const { killed } = await runKilledAfter(root, delay);
  const next = runCli(['--root', root, 'run']);
  const problems = next.code === 0 ? convergenceProblems(trees.base, root, before) : [`next run exit ${next.code}: ${next.stderr.slice(-800)}`];
  return { delay, killed, problems };
}

describe('random-instant SIGKILL during run', () => {
  it(`${TRIALS} killed trials converge (seed ${SEED})`, async () => {
    // How long a whole run takes here and now, so the kills spread over its whole life; a trial whose run ended
    // before its kill does not count as one of the TRIALS, and narrows the window for the next.
    const probe = trees.copy(CONFIG);
    let window = (await runKilledAfter(probe, -1)).elapsed;
    const rnd = random(SEED);
    const results: Trial[] = [];
    const killedSoFar = (): number => results.filter((r) => r.killed).length;
    while (killedSoFar() < TRIALS && results.length < TRIALS * 2) {
      const batch = await Promise.all([trial(Math.round(rnd() * window)), trial(Math.round(rnd() * window))]);
      for (const t of batch) if (!t.killed) window = Math.max(200, Math.min(window, t.delay) * 0.95);
      results.push(...batch);
    }
    const converged = results.filter((r) => r.problems.length === 0).length;
    const killed = killedSoFar();
    console.log(`crash harness: ${results.length} random SIGKILL trials (seed ${SEED}), ${killed} killed mid-run, ` +
      `converged ${converged}/${results.length} = ${((100 * converged) / results.length).toFixed(1)}%`);
    expect(results.filter((r) => r.problems.length > 0)).toEqual([]);
    expect(killed, 'trials that really killed the run').toBeGreaterThanOrEqual(TRIALS);
  }, 900_000);
});
