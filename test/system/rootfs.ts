// A Debian 12 root filesystem for the system test, built once with debootstrap and cached as a tarball under
// /var/cache/kube-cert-renewer-test, keyed by what goes into it; every run unpacks a fresh copy. No Node.js inside:
// the packaged single executable has to run on its own.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { processStartTime } from '../../src/host/proc.js';

export const CACHE_DIR = process.env['KCR_TEST_CACHE'] ?? '/var/cache/kube-cert-renewer-test';
const MIRROR = process.env['KCR_DEBIAN_MIRROR'] ?? 'http://deb.debian.org/debian';
const SUITE = 'bookworm';
/**
 * systemd, dbus: a real init and bus. etcd-server, etcd-client: a real etcd as the static-pod stand-in, and etcdctl
 * to check it. openssl: stand-ins for the other control-plane endpoints, and s_client for independent checks.
 */
export const PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'etcd-server', 'etcd-client', 'openssl'];
/** Bump when the preparation below changes, so old tarballs are not reused. */
const RECIPE = 1;

function log(text: string): void {
  process.stderr.write(`[system] ${text}\n`);
}

function cacheKey(packages: readonly string[]): string {
  const recipe = JSON.stringify({ suite: SUITE, variant: 'minbase', packages, mirror: MIRROR, recipe: RECIPE });
  return createHash('sha256').update(recipe).digest('hex').slice(0, 16);
}

/** What the cached tree needs beyond debootstrap's result. */
function prepare(dir: string): void {
  // Debian's etcd.service would start a second etcd on the default ports at boot: the stand-in is the only one.
  const wants = join(dir, 'etc/systemd/system/multi-user.target.wants/etcd.service');
  if (existsSync(wants)) unlinkSync(wants);
  symlinkSync('/dev/null', join(dir, 'etc/systemd/system/etcd.service'));
  // Downloaded .debs and package lists only make the tarball bigger.
  rmSync(join(dir, 'var/cache/apt/archives'), { recursive: true, force: true });
  mkdirSync(join(dir, 'var/cache/apt/archives/partial'), { recursive: true });
  for (const f of readdirSync(join(dir, 'var/lib/apt/lists'))) {
    if (f !== 'partial' && f !== 'lock') rmSync(join(dir, 'var/lib/apt/lists', f), { force: true });
  }
}

/**
 * The cached tarball, built with debootstrap when missing (about two minutes on a cold cache). `extra` packages go
 * in beside PACKAGES (the Ansible test adds python3 and python3-apt); each package list has its own tarball.
 */
export function cachedRootfs(extra: readonly string[] = []): string {
  const packages = [...PACKAGES, ...extra];
  const tarball = join(CACHE_DIR, `debian-${SUITE}-${cacheKey(packages)}.tar`);
  if (existsSync(tarball)) return tarball;
  mkdirSync(CACHE_DIR, { recursive: true });
  const work = mkdtempSync(join(CACHE_DIR, 'debootstrap-'));
  try {
    const dir = join(work, 'root');
    log(`debootstrap ${SUITE} (${packages.join(', ')}) from ${MIRROR} into the cache; later runs reuse it`);
    const started = Date.now();
    execFileSync('debootstrap', ['--variant=minbase', `--include=${packages.join(',')}`, SUITE, dir, MIRROR], {
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 20 * 60_000,
    });
    prepare(dir);
    const partial = join(work, 'rootfs.tar');
    execFileSync('tar', ['--numeric-owner', '--xattrs', '-C', dir, '-cf', partial, '.'], { stdio: 'inherit' });
    renameSync(partial, tarball); // atomic: an interrupted build never leaves a half tarball behind
    log(`cached ${tarball} (${Math.round(statSync(tarball).size / 1e6)} MB) in ${Math.round((Date.now() - started) / 1000)}s`);
    return tarball;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const TREES = '/var/tmp';
const TREE_PREFIX = 'kcr-system-';

/** `pid starttime` of this process: names it even after its PID is reused. */
function processId(pid: number): string | undefined {
  const started = processStartTime(pid);
  return started === undefined ? undefined : `${pid} ${started}`;
}

/** Trees left by runs that were killed outright (their container went down with them: see container.ts). */
function removeAbandonedTrees(): void {
  for (const name of readdirSync(TREES).filter((n) => n.startsWith(TREE_PREFIX))) {
    const base = join(TREES, name);
    let owner: string;
    try {
      owner = readFileSync(join(base, 'owner'), 'utf8').trim();
    } catch {
      continue; // not ours, or still being set up
    }
    if (processId(Number(owner.split(' ')[0])) === owner) continue;
    rmSync(base, { recursive: true, force: true });
    // what systemd-nspawn leaves behind without machined (the machine is named after the tree)
    rmSync(join('/run/systemd/nspawn/propagate', name), { recursive: true, force: true });
  }
}

/** A fresh copy of the cached root filesystem (with `extra` packages) in a new directory on the same disk (/var/tmp). */
export function freshRootfs(extra: readonly string[] = []): { dir: string; remove: () => void } {
  const tarball = cachedRootfs(extra);
  removeAbandonedTrees();
  const base = mkdtempSync(join(TREES, TREE_PREFIX));
  writeFileSync(join(base, 'owner'), `${processId(process.pid) ?? process.pid}\n`);
  const dir = join(base, 'root');
  mkdirSync(dir);
  execFileSync('tar', ['--numeric-owner', '--xattrs', '-C', dir, '-xf', tarball], { stdio: 'inherit' });
  return { dir, remove: () => rmSync(base, { recursive: true, force: true }) };
}
