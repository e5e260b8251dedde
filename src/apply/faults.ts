/**
 * Fault injection for crash tests: KUBE_CERT_RENEWER_FAULT=<point>:<n> kills the process with SIGKILL the n-th
 * time it passes <point> (e.g. `after-write:1` dies between writing a key and its certificate). Unset in production,
 * where faultPoint is a no-op.
 */
const counts = new Map<string, number>();

export function faultPoint(point: string): void {
  const spec = process.env.KUBE_CERT_RENEWER_FAULT;
  if (!spec) return;
  const [name, nth] = spec.split(':');
  if (name !== point) return;
  const seen = (counts.get(point) ?? 0) + 1;
  counts.set(point, seen);
  if (seen === Number(nth ?? 1)) process.kill(process.pid, 'SIGKILL');
}
