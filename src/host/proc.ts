/** What /proc says about a process. */
import { readFileSync } from 'node:fs';

/**
 * Field 22 of /proc/PID/stat: the process start time in clock ticks since boot. With the pid it names one
 * process, so a reused pid is not mistaken for the process that had it before. Undefined when it has exited.
 */
export function processStartTime(pid: number | string, proc = '/proc'): string | undefined {
  try {
    const stat = readFileSync(`${proc}/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing parenthesis.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** When the system booted (`btime` in /proc/stat), in ms since the epoch; undefined when /proc cannot say. */
export function bootTimeMs(proc = '/proc'): number | undefined {
  try {
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync(`${proc}/stat`, 'utf8'))?.[1]);
    return Number.isFinite(btime) ? btime * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A start time in clock ticks since boot (processStartTime) as wall-clock time. Linux reports it in USER_HZ, which
 * is 100 on every architecture Kubernetes runs on.
 */
export function startTicksToDate(bootMs: number, ticks: string): Date | undefined {
  return /^\d+$/.test(ticks) ? new Date(bootMs + Number(ticks) * 10) : undefined;
}

/** When a process started, as wall-clock time. Undefined when it has exited or /proc cannot say. */
export function processStartedAt(pid: number | string, proc = '/proc'): Date | undefined {
  const ticks = processStartTime(pid, proc);
  const boot = bootTimeMs(proc);
  return ticks === undefined || boot === undefined ? undefined : startTicksToDate(boot, ticks);
}
