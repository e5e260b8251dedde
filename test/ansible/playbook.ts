// Runs ansible-playbook (Debian's ansible-core) with the JSON stdout callback and reads its results: per-host
// recap counts, and each task's per-host result. Every run's JSON is kept beside the inventory for failure reports.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ANSIBLE_DIR = join(__dirname, '..', '..', 'ansible');

export interface HostStats { ok: number; changed: number; failures: number; skipped: number; unreachable: number; ignored: number }
export interface TaskResult { changed?: boolean; failed?: boolean; skipped?: boolean; msg?: unknown; [k: string]: unknown }
interface JsonOutput {
  plays: Array<{ play: { name: string }; tasks: Array<{ task: { name: string }; hosts: Record<string, TaskResult> }> }>;
  stats: Record<string, HostStats>;
}

export interface PlaybookRun {
  code: number;
  stats: Record<string, HostStats>;
  /** results of the task with this name (without its role's prefix), per host, over every play (serial batches are separate plays) */
  task(name: string): Record<string, TaskResult>;
  /** names of the tasks that ran (not skipped) on a host */
  tasksRunOn(host: string): string[];
  /** a short account of what failed, for assertion messages */
  failures(): string;
  log: string;
  stderr: string;
}

let runs = 0;

export function playbook(workDir: string, inventory: string, args: string[], env: Record<string, string> = {}): Promise<PlaybookRun> {
  return new Promise((resolve, reject) => {
    execFile('ansible-playbook', ['-i', inventory, ...args], {
      cwd: ANSIBLE_DIR,
      encoding: 'utf8',
      maxBuffer: 256 << 20,
      timeout: 15 * 60_000,
      env: {
        ...process.env,
        ANSIBLE_STDOUT_CALLBACK: 'ansible.posix.json',
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_RETRY_FILES_ENABLED: '0',
        ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
        ANSIBLE_LOCAL_TEMP: join(workDir, 'ansible-local'),
        ...env,
      },
    }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
      if (e && typeof e.code !== 'number') return reject(new Error(`ansible-playbook ${args.join(' ')}: ${e.message}\n${stderr}`));
      const log = join(workDir, `playbook-${++runs}.json`);
      writeFileSync(log, stdout);
      let out: JsonOutput;
      try {
        out = JSON.parse(stdout.slice(stdout.indexOf('{'))) as JsonOutput;
      } catch {
        return reject(new Error(`ansible-playbook ${args.join(' ')} printed no JSON (exit ${String(e?.code ?? 0)}):\n${stdout}\n${stderr}`));
      }
      // a role's tasks are named "ROLE : NAME"
      const tasks = out.plays.flatMap((p) => p.tasks).map((t) => ({ ...t, name: t.task.name.replace(/^[\w.]+ : /, '') }));
      resolve({
        code: e ? Number(e.code) : 0,
        stats: out.stats,
        task: (name) => Object.assign({}, ...tasks.filter((t) => t.name === name).map((t) => t.hosts)) as Record<string, TaskResult>,
        tasksRunOn: (host) => tasks.filter((t) => t.hosts[host] && !t.hosts[host]?.skipped).map((t) => t.name),
        failures: () => tasks.flatMap((t) => Object.entries(t.hosts).filter(([, r]) => r.failed)
          .map(([h, r]) => `${h}: ${t.name}: ${JSON.stringify(r.msg ?? r['stderr'] ?? r)}`)).join('\n') || stderr,
        log,
        stderr,
      });
    });
  });
}
