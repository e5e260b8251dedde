// Before the Ansible test: root (systemd-nspawn, nsenter), Debian's Ansible (ansible-core, the ansible package for
// community.docker's nsenter connection and ansible.posix's JSON callback, ansible-lint) and the system test's
// tools, installed when missing; then the packages, built from the current tree unless KCR_TEST_REUSE_PACKAGES=1
// says build/ already holds them (npm test sets it after the system test built and checked them).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureDebianPackages } from '../../scripts/debian-packages.mjs';

export default function setup(): void {
  if (process.getuid?.() !== 0) throw new Error('npm run test:ansible needs root: it boots containers with systemd-nspawn');
  ensureDebianPackages({
    'systemd-container': 'systemd-nspawn', debootstrap: 'debootstrap', openssl: 'openssl', 'util-linux': 'nsenter',
    'ansible-core': 'ansible-playbook', ansible: 'ansible-community', 'ansible-lint': 'ansible-lint', 'dpkg-dev': 'dpkg-deb',
  });
  if (process.env['KCR_TEST_REUSE_PACKAGES'] === '1') return;
  const root = join(__dirname, '..', '..');
  const started = Date.now();
  execFileSync(process.execPath, [join(root, 'scripts/package.mjs')], { cwd: root, stdio: 'inherit' });
  process.stderr.write(`[ansible] packages built and linted in ${Math.round((Date.now() - started) / 1000)}s\n`);
}
