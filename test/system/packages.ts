// The packages `npm run package` built (global-setup.ts builds them before the system tests).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const BUILD_DIR = join(__dirname, '..', '..', 'build');
const version = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** build/kube-cert-renewer_<version>-<release>_amd64.deb or build/kube-cert-renewer-<version>-<release>.x86_64.rpm */
export function builtPackage(kind: 'deb' | 'rpm'): string {
  const pattern = kind === 'deb'
    ? new RegExp(`^kube-cert-renewer_${version.replace(/\./g, '\\.')}-\\d+_amd64\\.deb$`)
    : new RegExp(`^kube-cert-renewer-${version.replace(/\./g, '\\.')}-\\d+\\.x86_64\\.rpm$`);
  const found = readdirSync(BUILD_DIR).filter((f) => pattern.test(f));
  if (found.length !== 1) throw new Error(`expected one ${kind} of version ${version} in ${BUILD_DIR}, found: ${found.join(', ') || 'none'}`);
  return join(BUILD_DIR, found[0] as string);
}
