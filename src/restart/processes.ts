/** Processes of a component seen in /proc (static pod containers share the host's process view). */
import { readFileSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { bootTimeMs, processStartTime, startTicksToDate } from '../host/proc.js';

export interface ProcessMatch {
  binary: string;
  arg?: string;
}

/** `pid:starttime` of every process whose argv[0] is `binary` (and which has `arg`, when given). */
export function matchingProcesses(match: ProcessMatch, proc = '/proc'): Set<string> {
  const out = new Set<string>();
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const argv = readFileSync(`${proc}/${pid}/cmdline`, 'utf8').split('\0');
      if (basename(argv[0] ?? '') !== match.binary) continue;
      if (match.arg && !argv.includes(match.arg)) continue;
      const started = processStartTime(pid, proc);
      if (started !== undefined) out.add(`${pid}:${started}`);
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/**
 * Whether the component's processes all started after `since`: at least one runs, and none is older. A component
 * restarted by hand (or by the kubelet) after a renewal runs the renewed certificates.
 */
export function allStartedAfter(match: ProcessMatch, since: Date, proc = '/proc'): boolean {
  const processes = [...matchingProcesses(match, proc)];
  const boot = bootTimeMs(proc);
  if (processes.length === 0 || boot === undefined) return false;
  // each entry is `pid:starttime`, the start already read from /proc by matchingProcesses
  return processes.every((p) => {
    const started = startTicksToDate(boot, p.slice(p.indexOf(':') + 1));
    return started !== undefined && started.getTime() > since.getTime();
  });
}
