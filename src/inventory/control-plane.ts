/**
 * Is there a kubeadm control plane under the root at all? `status`, `plan` and `run` read the inventory and then ask
 * this, so a wrong --root (or paths.* pointing nowhere) gives one clear message and exit 1, never a table of MISSING
 * rows or a run that "renews nothing".
 */
import { RunFailedError } from '../errors.js';
import type { HostPaths } from '../host/paths.js';
import { hostPathOf } from '../host/paths.js';
import type { Inventory } from './records.js';

/** True when the inventory found not one CA, certificate or kubeconfig file (readable or not). */
export function holdsNoControlPlane(inventory: Inventory): boolean {
  const absent = (state: string): boolean => state === 'missing' || state === 'not-applicable';
  return inventory.cas.every((c) => absent(c.state)) && inventory.leaves.every((l) => absent(l.state));
}

export function assertControlPlane(inventory: Inventory, paths: HostPaths): void {
  if (!holdsNoControlPlane(inventory)) return;
  throw new RunFailedError(
    `no kubeadm control plane under ${paths.root}`,
    `found no CA or certificate in ${hostPathOf(paths.root, paths.pki)} and no kubeconfig in ${hostPathOf(paths.root, paths.kubernetes)}; `
      + 'check --root, or paths.pki and paths.kubernetes in the config (kube-cert-renewer runs on kubeadm control-plane nodes)',
  );
}
