/** Drive the real, built CLI (dist/) as a child process, as an operator or the timer would. */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlanReport } from '../../src/report/plan.js';
import type { CertificateReport, StatusReport } from '../../src/report/status.js';
import { assertMatchesSchema } from './schemas.js';

export const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'kube-cert-renewer.cjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: '', ...env },
    timeout: 600_000,
  });
  return { code: r.status ?? (r.signal ? 128 : 1), stdout: r.stdout, stderr: r.stderr };
}

export function runCliAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => resolve({ code: code ?? 128, signal, stdout, stderr }));
  });
}

/** `status -o json` as an object, with the exit code; the output is validated against schemas/status.schema.json. */
export function statusJson(root: string, extra: string[] = []): { code: number; report: StatusJson; stderr: string } {
  const r = runCli(['--root', root, ...extra, 'status', '-o', 'json']);
  const report = JSON.parse(r.stdout) as StatusJson;
  assertMatchesSchema('status', report);
  return { code: r.code, report, stderr: r.stderr };
}

/** `plan -o json` as an object, with the exit code; validated against schemas/plan.schema.json. */
export function planJson(root: string, extra: string[] = []): { code: number; report: PlanReport; stderr: string } {
  const r = runCli(['--root', root, ...extra, 'plan', '-o', 'json']);
  const report = JSON.parse(r.stdout) as PlanReport;
  assertMatchesSchema('plan', report);
  return { code: r.code, report, stderr: r.stderr };
}

/** The JSON contracts' types are the report types themselves; the schemas check that the output keeps them. */
export type StatusJson = StatusReport;
export type CertJson = CertificateReport;

export function writeConfig(root: string, yamlText: string): string {
  const file = join(root, 'etc/kube-cert-renewer/config.yaml');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, yamlText);
  return file;
}

/** A copy of a tree (so one generated fixture can serve several destructive tests). */
export function copyTree(root: string): string {
  const dest = mkdtempSync(join(tmpdir(), 'kcr-copy-'));
  cpSync(root, dest, { recursive: true, verbatimSymlinks: true });
  return dest;
}

/** Every regular file under `dir` with its bytes and mode, for byte-identity checks. */
export function snapshotFiles(dir: string, skip: (rel: string) => boolean = () => false): Map<string, { content: Buffer; mode: number }> {
  const out = new Map<string, { content: Buffer; mode: number }>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const rel = relative(dir, p);
      if (skip(rel)) continue;
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.set(rel, { content: readFileSync(p), mode: st.mode & 0o7777 });
    }
  };
  walk(dir);
  return out;
}
