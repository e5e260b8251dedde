#!/usr/bin/env node
// Builds the packages from the single executable (scripts/build-binary.mjs) and packaging/:
//   build/kube-cert-renewer_<version>-<release>_amd64.deb   dpkg-deb, xz (lintian refuses zstd)
//   build/kube-cert-renewer-<version>-<release>.x86_64.rpm  rpmbuild, nothing stripped
// then lints both: any lintian or rpmlint error or warning that packaging/ does not override fails the build.
//
// Usage: node scripts/package.mjs [--skip-binary] [--no-lint]
// Needs Debian's dpkg-dev, rpm, rpmlint, lintian and binutils; installs the missing ones with apt-get (as root).
import { execFileSync } from 'node:child_process';
import {
  chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages } from './debian-packages.mjs';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** The packaging revision: bump it (and both changelogs) to re-package the same upstream version. */
const RELEASE = '1';
const VERSION = `${pkg.version}-${RELEASE}`;
const SCHEMAS = readdirSync(join(root, 'schemas')).filter((f) => f.endsWith('.schema.json')).sort();
const NAME = 'kube-cert-renewer';
const build = join(root, 'build');
const DEB = join(build, `${NAME}_${VERSION}_amd64.deb`);
const RPM = join(build, `${NAME}-${VERSION}.x86_64.rpm`);
const binary = join(build, NAME);

function say(text) {
  process.stderr.write(`package: ${text}\n`);
}

function run(file, args, options = {}) {
  try {
    return execFileSync(file, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
  } catch (err) {
    process.stderr.write(`${err.stdout ?? ''}${err.stderr ?? ''}`);
    throw new Error(`${file} ${args.join(' ')} failed (exit ${err.status ?? err.signal})`);
  }
}

/** The version of the newest entry of a Debian changelog. */
function changelogVersion(text) {
  return /^\S+ \(([^)]+)\)/.exec(text)?.[1];
}

function writeFile(path, content, mode) {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  writeFileSync(path, content);
  chmodSync(path, mode);
}

function walk(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    out.push(path);
    if (entry.isDirectory()) walk(path, out);
  }
  return out;
}

/** Every file and directory of the package tree (DEBIAN/ aside), relative, sorted. */
function contents(tree) {
  return walk(tree).map((p) => relative(tree, p)).filter((p) => p !== 'DEBIAN' && !p.startsWith('DEBIAN/')).sort();
}

/** What the shared libraries the executable links against need (dpkg-shlibdeps), as a Depends list. */
function sharedLibraryDepends(work) {
  const dir = join(work, 'shlibs');
  writeFile(join(dir, 'debian/control'), `Source: ${NAME}\n\nPackage: ${NAME}\nArchitecture: amd64\n`, 0o644);
  const out = run('dpkg-shlibdeps', ['-O', `-e${binary}`], { cwd: dir });
  const depends = /shlibs:Depends=(.*)/.exec(out)?.[1]?.trim();
  if (!depends) throw new Error(`dpkg-shlibdeps found no dependencies: ${out}`);
  return depends;
}

/** A copyright file naming every runtime dependency (the bundle's npm modules are listed there by hand). */
function copyrightText() {
  const text = readFileSync(join(root, 'packaging/copyright'), 'utf8').replaceAll('{{NODE_VERSION}}', process.version);
  const unnamed = Object.keys(pkg.dependencies ?? {}).filter((d) => !text.includes(`node_modules/${d}/`));
  if (unnamed.length) throw new Error(`packaging/copyright does not name the bundled dependencies ${unnamed.join(', ')}`);
  return text;
}

function buildDeb(work) {
  const tree = join(work, 'deb');
  rmSync(tree, { recursive: true, force: true });
  const gz = (path) => gzipSync(readFileSync(join(root, path)), { level: 9 }); // no name, no timestamp: gzip -9n
  const changelog = readFileSync(join(root, 'packaging/changelog'), 'utf8');
  if (changelogVersion(changelog) !== VERSION) {
    throw new Error(`packaging/changelog's newest entry is ${changelogVersion(changelog)}, the package is ${VERSION}: add an entry`);
  }
  writeFile(join(tree, 'usr/bin', NAME), readFileSync(binary), 0o755);
  for (const unit of ['kube-cert-renewer.service', 'kube-cert-renewer.timer']) {
    writeFile(join(tree, 'lib/systemd/system', unit), readFileSync(join(root, 'systemd', unit)), 0o644);
  }
  writeFile(join(tree, 'etc/kube-cert-renewer/config.yaml'), readFileSync(join(root, 'packaging/config.yaml')), 0o644);
  writeFile(join(tree, 'usr/share/man/man8/kube-cert-renewer.8.gz'), gz('packaging/kube-cert-renewer.8'), 0o644);
  writeFile(join(tree, 'usr/share/doc', NAME, 'copyright'), copyrightText(), 0o644);
  writeFile(join(tree, 'usr/share/doc', NAME, 'changelog.Debian.gz'), gz('packaging/changelog'), 0o644);
  // The operator guide on the node: the README (configuration, JSON, metrics, CA expiry), compressed as policy asks.
  writeFile(join(tree, 'usr/share/doc', NAME, 'README.md.gz'), gz('README.md'), 0o644);
  writeFile(join(tree, 'usr/share/lintian/overrides', NAME), readFileSync(join(root, 'packaging/debian/lintian-overrides')), 0o644);
  // The JSON contracts of status, plan and history, for automation on the node.
  for (const f of SCHEMAS) writeFile(join(tree, 'usr/share', NAME, 'schemas', f), readFileSync(join(root, 'schemas', f)), 0o644);

  const files = contents(tree);
  // Installed-Size as dpkg-gencontrol counts it: KiB per file, rounded up, and one per directory.
  const installedSize = files.reduce((kib, f) => {
    const st = statSync(join(tree, f));
    return kib + (st.isDirectory() ? 1 : Math.ceil(st.size / 1024));
  }, 0);
  const md5sums = files.filter((f) => statSync(join(tree, f)).isFile() && !f.startsWith('etc/'))
    .map((f) => `${createHash('md5').update(readFileSync(join(tree, f))).digest('hex')}  ${f}\n`).join('');
  const control = readFileSync(join(root, 'packaging/debian/control'), 'utf8')
    .replace('{{VERSION}}', VERSION)
    .replace('{{INSTALLED_SIZE}}', String(installedSize))
    .replace('{{SHLIBS_DEPENDS}}', sharedLibraryDepends(work));
  writeFile(join(tree, 'DEBIAN/control'), control, 0o644);
  writeFile(join(tree, 'DEBIAN/md5sums'), md5sums, 0o644);
  copyFileSync(join(root, 'packaging/debian/conffiles'), join(tree, 'DEBIAN/conffiles'));
  chmodSync(join(tree, 'DEBIAN/conffiles'), 0o644);
  for (const script of ['postinst', 'prerm', 'postrm']) {
    writeFile(join(tree, 'DEBIAN', script), readFileSync(join(root, 'packaging/debian', script)), 0o755);
  }
  for (const f of files) if (statSync(join(tree, f)).isDirectory()) chmodSync(join(tree, f), 0o755);
  chmodSync(join(tree, 'DEBIAN'), 0o755);
  say(`building ${relative(root, DEB)} (xz)`);
  rmSync(DEB, { force: true });
  run('dpkg-deb', ['--root-owner-group', '-Zxz', '--threads-max=2', '--build', tree, DEB]);
}

function buildRpm(work) {
  const top = join(work, 'rpm');
  rmSync(top, { recursive: true, force: true });
  // The license file is the copyright file with the Node.js version filled in, like the deb's.
  const staged = join(work, 'rpm-src');
  rmSync(staged, { recursive: true, force: true });
  writeFile(join(staged, 'packaging/copyright'), copyrightText(), 0o644);
  say(`building ${relative(root, RPM)}`);
  run('rpmbuild', [
    '-bb', '--quiet',
    '--define', `_topdir ${top}`,
    '--define', `srcroot ${root}`,
    '--define', `pkg_version ${pkg.version}`,
    '--define', `pkg_release ${RELEASE}`,
    '--define', `copyright_file ${join(staged, 'packaging/copyright')}`,
    // xz like the deb (readable by rpm >= 4.4 everywhere), on every core
    '--define', '_binary_payload w6T.xzdio',
    '--target', 'x86_64',
    join(root, 'packaging/rpm/kube-cert-renewer.spec'),
  ]);
  const built = join(top, 'RPMS/x86_64', `${NAME}-${VERSION}.x86_64.rpm`);
  rmSync(RPM, { force: true });
  renameSync(built, RPM);
}

/** lintian: errors and warnings fail the build (overrides with reasons are in packaging/debian/lintian-overrides). */
function lintDeb() {
  say('lintian');
  const out = run('lintian', ['--fail-on', 'error,warning', '--display-info', DEB]);
  process.stderr.write(out);
}

/** rpmlint: errors and warnings fail the build (filters with reasons are in packaging/rpm/rpmlintrc). */
function lintRpm() {
  say('rpmlint');
  let out;
  try {
    out = run('rpmlint', ['-c', join(root, 'packaging/rpm/rpmlint.toml'), '-r', join(root, 'packaging/rpm/rpmlintrc'), RPM]);
  } catch (err) {
    throw new Error(`rpmlint failed: ${err.message}`);
  }
  process.stderr.write(out);
  const summary = /(\d+) errors?, (\d+) warnings?/.exec(out);
  if (!summary || summary[1] !== '0' || summary[2] !== '0') throw new Error(`rpmlint: ${summary?.[0] ?? 'no summary line'}`);
}

function packageAll({ skipBinary, lint }) {
  ensureDebianPackages({ 'dpkg-dev': 'dpkg-shlibdeps', rpm: 'rpmbuild', binutils: 'strip', 'xz-utils': 'xz', ...(lint ? { lintian: 'lintian', rpmlint: 'rpmlint' } : {}) });
  if (!skipBinary) execFileSync(process.execPath, [join(root, 'scripts/build-binary.mjs')], { cwd: root, stdio: 'inherit' });
  if (!existsSync(binary)) throw new Error(`${relative(root, binary)} is missing: run npm run build:binary`);
  const work = join(build, 'pkg');
  mkdirSync(work, { recursive: true });
  buildDeb(work);
  buildRpm(work);
  if (lint) {
    lintDeb();
    lintRpm();
  }
  for (const f of [DEB, RPM]) say(`${relative(root, f)}: ${(statSync(f).size / 1e6).toFixed(1)} MB`);
}

packageAll({ skipBinary: process.argv.includes('--skip-binary'), lint: !process.argv.includes('--no-lint') });
