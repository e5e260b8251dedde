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

/**
 * When a process started, as wall-clock time: the boot time (`btime` in /proc/stat) plus its start time in clock
 * ticks. Linux reports both in USER_HZ, which is 100 on every architecture Kubernetes runs on. Undefined when the
 * process has exited or /proc cannot say.
 */
export function processStartedAt(pid: number | string, proc = '/proc'): Date | undefined {
  const ticks = processStartTime(pid, proc);
  let btime: number | undefined;
  try {
    btime = Number(/^btime (\d+)$/m.exec(readFileSync(`${proc}/stat`, 'utf8'))?.[1]);
  } catch {
    return undefined;
  }
  if (ticks === undefined || !Number.isFinite(btime) || !/^\d+$/.test(ticks)) return undefined;
  return new Date((btime as number) * 1000 + Number(ticks) * 10);
}
