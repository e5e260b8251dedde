// Before the system tests: they need root (debootstrap, systemd-nspawn, nsenter) and Debian's tools, installed
// here when missing; then the packages are built and linted from the current tree (scripts/package.mjs), so the
// tests never check stale ones. KCR_TEST_REUSE_PACKAGES=1 skips that and tests what build/ holds (for iterating on
// the tests themselves).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureDebianPackages } from '../../scripts/debian-packages.mjs';

export default function setup(): void {
  if (process.getuid?.() !== 0) throw new Error('npm run test:system needs root: it boots a container with systemd-nspawn');
  ensureDebianPackages({
    'systemd-container': 'systemd-nspawn', debootstrap: 'debootstrap', openssl: 'openssl', 'util-linux': 'nsenter',
    rpm2cpio: 'rpm2cpio', cpio: 'cpio', binutils: 'ar',
  });
  if (process.env['KCR_TEST_REUSE_PACKAGES'] === '1') return;
  const root = join(__dirname, '..', '..');
  const started = Date.now();
  execFileSync(process.execPath, [join(root, 'scripts/package.mjs')], { cwd: root, stdio: 'inherit' });
  process.stderr.write(`[system] packages built and linted in ${Math.round((Date.now() - started) / 1000)}s\n`);
}
