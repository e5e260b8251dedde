#!/usr/bin/env node
// npm test: everything the test suite needs, then the tests.
//  1. Debian packages the tests use as independent peers (openssl, etcd, kubectl's peer, systemd-nspawn, ...),
//     installed with apt-get when missing (CI machines start clean; only Debian's repositories are reachable).
//  2. vitest: unit tests beside the code, integration tests under test/ (they drive the built CLI).
//  3. the system test: the .deb inside a real systemd (test/system), unless KCR_SKIP_SYSTEM=1.
//  4. the Ansible test: the role and playbooks against three booted containers (test/ansible), unless
//     KCR_SKIP_ANSIBLE=1. It reuses the packages the system test just built and checked (KCR_TEST_REUSE_PACKAGES=1);
//     without the system test it builds them itself.
import { spawnSync } from 'node:child_process';
import { ensureDebianPackages } from './debian-packages.mjs';

const PACKAGES = {
  openssl: '/usr/bin/openssl',
  'etcd-server': '/usr/bin/etcd',
  'etcd-client': '/usr/bin/etcdctl',
  'kubernetes-client': '/usr/bin/kubectl', // Debian's kubectl
  python3: '/usr/bin/python3',
  faketime: '/usr/bin/faketime',
  'systemd-container': '/usr/bin/systemd-nspawn',
  debootstrap: '/usr/sbin/debootstrap',
  rpm: '/usr/bin/rpmbuild',
  rpmlint: '/usr/bin/rpmlint',
  lintian: '/usr/bin/lintian',
  dbus: '/usr/bin/dbus-daemon',
  'xz-utils': '/usr/bin/xz',
  binutils: '/usr/bin/strip',
  systemd: '/usr/bin/systemd-analyze',
  mount: '/usr/bin/mount', // test/write-errors: a filled tmpfs and a read-only bind mount
  coreutils: '/usr/bin/mkfifo', // FIFOs in place of host files
  'ansible-core': '/usr/bin/ansible-playbook',
  ansible: '/usr/bin/ansible-community', // community.docker (nsenter connection), ansible.posix (JSON callback)
  'ansible-lint': '/usr/bin/ansible-lint',
};

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

try {
  ensureDebianPackages(PACKAGES, (text) => console.log(`test dependencies: ${text}`));
} catch (err) {
  console.error(err.message);
  process.exit(1);
}

sh('npx', ['tsc', '--noEmit', '-p', '.']);
sh('npx', ['vitest', 'run']);
const system = process.env.KCR_SKIP_SYSTEM !== '1';
if (system) sh('npm', ['run', 'test:system']);
if (process.env.KCR_SKIP_ANSIBLE !== '1') {
  const env = { ...process.env, ...(system ? { KCR_TEST_REUSE_PACKAGES: '1' } : {}) };
  sh('npm', ['run', 'test:ansible'], { env });
}
