/**
 * CAs that expire within renewBefore (or have expired), told once per CA: the date, which certificates it signs, and
 * what to do. `run` logs these instead of one error per leaf; `status` flags the CA row (report/status.ts).
 */
import { formatDuration } from '../config/duration.js';
import { hostPathOf } from '../host/paths.js';
import type { Inventory } from '../inventory/records.js';

export interface CaExpiryNotice {
  ca: string;
  /** Host path of the CA certificate. */
  file: string;
  notAfter: string;
  expired: boolean;
  /** Present leaves it signs. */
  leaves: string[];
  message: string;
  hint: string;
}

const DAY = 86_400_000;
export const CA_ROTATION_HINT = 'rotate the CA by hand before it expires: see "When a CA nears expiry" in kube-cert-renewer(8)';

export function caExpiryNotices(inventory: Inventory, renewBefore: number, now: Date, root: string): CaExpiryNotice[] {
  const notices: CaExpiryNotice[] = [];
  for (const ca of inventory.cas) {
    if (ca.state !== 'present' || !ca.cert) continue;
    const left = ca.cert.notAfter.getTime() - now.getTime();
    if (left > 0 && left >= renewBefore) continue;
    const notAfter = ca.cert.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const leaves = inventory.leaves.filter((l) => l.entry.ca === ca.entry.name && l.state === 'present' && !l.rotatedByKubelet).map((l) => l.entry.name);
    const file = hostPathOf(root, ca.certPath);
    const when = left <= 0 ? `expired on ${notAfter}` : `expires on ${notAfter} (in ${Math.floor(left / DAY)} days, within renewBefore ${formatDuration(renewBefore)})`;
    notices.push({
      ca: ca.entry.name, file, notAfter, expired: left <= 0, leaves,
      message: `CA ${ca.entry.name} (${file}) ${when}: the ${leaves.length} certificates it signs cannot be renewed past that date`,
      hint: CA_ROTATION_HINT,
    });
  }
  return notices;
}
