// A node's renew-and-restart window, read from its own journal (journalctl -o json): from the first record of
// kube-cert-renewer.service (systemd's "Starting…", the agent's lines) to the last one ("Finished…"), widened by
// every start and stop systemd logged for the units the agent restarts (static pods, kubelet).
import type { Container } from '../system/container.js';

export interface Window {
  start: number;
  end: number;
  /** realtime µs of systemd's records about restarted units (static-pod@*, kubelet) */
  restarts: number[];
  records: number;
}

interface JournalRecord { __REALTIME_TIMESTAMP: string; _PID?: string; UNIT?: string; _SYSTEMD_UNIT?: string; MESSAGE?: unknown }

const RESTARTED = /^(static-pod@.+|kubelet)\.service$/;

export async function renewWindow(c: Container, sinceMs: number): Promise<Window | undefined> {
  const out = await c.run(['journalctl', '--no-pager', '-o', 'json', `--since=@${Math.floor(sinceMs / 1000)}`,
    '-u', 'kube-cert-renewer.service', '-u', 'static-pod@*.service', '-u', 'kubelet.service']);
  const records = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as JournalRecord)
    .filter((r) => Number(r.__REALTIME_TIMESTAMP) >= sinceMs * 1000);
  const service = records.filter((r) => r._SYSTEMD_UNIT === 'kube-cert-renewer.service' || r.UNIT === 'kube-cert-renewer.service');
  const restarts = records.filter((r) => r._PID === '1' && RESTARTED.test(r.UNIT ?? '')).map((r) => Number(r.__REALTIME_TIMESTAMP));
  const times = [...service.map((r) => Number(r.__REALTIME_TIMESTAMP)), ...restarts];
  if (service.length === 0) return undefined;
  return { start: Math.min(...times), end: Math.max(...times), restarts, records: service.length };
}
