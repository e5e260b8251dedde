/**
 * Fault injection for crash tests: KUBE_CERT_RENEWER_FAULT=<point>:<n> kills the process with SIGKILL the n-th
 * time it passes <point>. Unset in production, where faultPoint is a no-op. The points, one at each write step:
 *
 *   temp-written  a temporary file written and fsynced, not yet renamed over its target (src/host/atomic.ts)
 *   stage         one file backed up and staged under backups/<run>/ (before the journal says `prepared`)
 *   journal       a journal (run.json) write, any phase
 *   after-write   one staged file committed over its target (a key before its certificate, ...)
 *   state         state.json written
 *   restart       a component about to be bounced
 *   annotate      a static pod manifest annotated, before the journal records the bounce
 *   restore       one backed-up file put back (automatic or manual rollback)
 *   prune         one old run's backups removed
 */
export const FAULT_POINTS = [
  'temp-written', 'stage', 'journal', 'after-write', 'state', 'restart', 'annotate', 'restore', 'prune',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

const counts = new Map<string, number>();

export function faultPoint(point: FaultPoint): void {
  const spec = process.env.KUBE_CERT_RENEWER_FAULT;
  if (!spec) return;
  const [name, nth] = spec.split(':');
  if (name !== point) return;
  const seen = (counts.get(point) ?? 0) + 1;
  counts.set(point, seen);
  if (seen === Number(nth ?? 1)) process.kill(process.pid, 'SIGKILL');
}
