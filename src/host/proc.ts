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
