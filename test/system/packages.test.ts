// The built packages as files: what they hold, how, and their maintainer scripts, read with dpkg-deb, rpm and
// rpmlint rather than with the script that built them. (Installing and removing the .deb is e2e.test.ts.)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD_DIR, builtPackage } from './packages.js';

const ROOT = join(BUILD_DIR, '..');
const SCHEMAS = readdirSync(join(ROOT, 'schemas')).filter((f) => f.endsWith('.schema.json')).sort();
const tool = (file: string, args: string[], cwd?: string): string =>
  execFileSync(file, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...(cwd ? { cwd } : {}) });
const work = mkdtempSync(join(tmpdir(), 'kcr-packages-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** gzip -n: no file name and no timestamp in the header (RFC 1952: FLG bit 3 is FNAME, bytes 4-7 MTIME). */
function expectReproducibleGzip(file: string): void {
  const header = readFileSync(file).subarray(0, 10);
  expect([header[0], header[1]]).toEqual([0x1f, 0x8b]);
  expect((header[3] ?? 0) & 0x08, `${file} names its source file`).toBe(0);
  expect(header.readUInt32LE(4), `${file} carries a timestamp`).toBe(0);
}

describe('the .deb', () => {
  const deb = builtPackage('deb');
  const tree = join(work, 'deb');
  execFileSync('dpkg-deb', ['-R', deb, tree]);

  it('is xz-compressed (lintian refuses zstd) and holds exactly the expected files', () => {
    expect(tool('ar', ['t', deb]).split('\n').filter(Boolean)).toEqual(['debian-binary', 'control.tar.xz', 'data.tar.xz']);
    const listing = tool('dpkg-deb', ['-c', deb]).split('\n').filter((l) => l && !l.startsWith('d'))
      .map((l) => l.replace(/^.*\s\.\//, '/'));
    expect(listing.sort()).toEqual([
      '/etc/kube-cert-renewer/config.yaml',
      '/lib/systemd/system/kube-cert-renewer.service',
      '/lib/systemd/system/kube-cert-renewer.timer',
      '/usr/bin/kube-cert-renewer',
      '/usr/share/doc/kube-cert-renewer/README.md.gz',
      '/usr/share/doc/kube-cert-renewer/changelog.Debian.gz',
      '/usr/share/doc/kube-cert-renewer/copyright',
      '/usr/share/lintian/overrides/kube-cert-renewer',
      '/usr/share/man/man8/kube-cert-renewer.8.gz',
      ...SCHEMAS.map((f) => `/usr/share/kube-cert-renewer/schemas/${f}`),
    ].sort());
  });

  it('ships the JSON contracts byte for byte as in schemas/', () => {
    expect(SCHEMAS.length).toBeGreaterThanOrEqual(2);
    for (const f of SCHEMAS) {
      expect(readFileSync(join(tree, 'usr/share/kube-cert-renewer/schemas', f)).equals(readFileSync(join(ROOT, 'schemas', f))), f).toBe(true);
    }
  });

  it('has a complete control file: version, Installed-Size, shared-library and systemd dependencies', () => {
    const field = (name: string): string => tool('dpkg-deb', ['-f', deb, name]).trim();
    expect(field('Package')).toBe('kube-cert-renewer');
    expect(field('Architecture')).toBe('amd64');
    expect(field('Version')).toMatch(/^\d+\.\d+\.\d+-\d+$/);
    // dpkg's rule (dpkg-gencontrol): KiB per file rounded up, one per directory; from the archive's own listing
    const kib = tool('dpkg-deb', ['-c', deb]).split('\n').filter(Boolean).reduce((sum, line) => {
      const [mode, , size] = line.split(/\s+/);
      return sum + (mode?.startsWith('d') ? (line.endsWith(' ./') ? 0 : 1) : Math.ceil(Number(size) / 1024));
    }, 0);
    expect(Number(field('Installed-Size'))).toBe(kib);
    expect(field('Depends')).toMatch(/(^|, )libc6 \(>= [\d.]+\)/);
    expect(field('Depends')).toMatch(/(^|, )libstdc\+\+6/);
    expect(field('Depends')).toMatch(/(^|, )systemd$/);
  });

  it('lists the config as a conffile and has md5sums for every other file', () => {
    expect(readFileSync(join(tree, 'DEBIAN/conffiles'), 'utf8')).toBe('/etc/kube-cert-renewer/config.yaml\n');
    const sums = tool('md5sum', ['--check', '--strict', join(tree, 'DEBIAN/md5sums')], tree);
    expect(sums.split('\n').filter(Boolean).sort()).toEqual([
      'lib/systemd/system/kube-cert-renewer.service: OK',
      'lib/systemd/system/kube-cert-renewer.timer: OK',
      'usr/bin/kube-cert-renewer: OK',
      'usr/share/doc/kube-cert-renewer/README.md.gz: OK',
      'usr/share/doc/kube-cert-renewer/changelog.Debian.gz: OK',
      'usr/share/doc/kube-cert-renewer/copyright: OK',
      'usr/share/lintian/overrides/kube-cert-renewer: OK',
      'usr/share/man/man8/kube-cert-renewer.8.gz: OK',
      ...SCHEMAS.map((f) => `usr/share/kube-cert-renewer/schemas/${f}: OK`),
    ].sort());
  });

  it('compresses the man page, changelog and README with gzip -9n', () => {
    expectReproducibleGzip(join(tree, 'usr/share/man/man8/kube-cert-renewer.8.gz'));
    expectReproducibleGzip(join(tree, 'usr/share/doc/kube-cert-renewer/changelog.Debian.gz'));
    expectReproducibleGzip(join(tree, 'usr/share/doc/kube-cert-renewer/README.md.gz'));
  });

  it('ships the operator guide and a man page covering the operator’s questions', () => {
    const readme = tool('gzip', ['-dc', join(tree, 'usr/share/doc/kube-cert-renewer/README.md.gz')]);
    expect(readme).toBe(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    for (const section of ['## When a CA nears expiry', '## Configuration', '### Metrics', '**Backups.**']) expect(readme).toContain(section);
    const man = tool('gzip', ['-dc', join(tree, 'usr/share/man/man8/kube-cert-renewer.8.gz')]);
    for (const section of ['.SH WHEN A CA NEARS EXPIRY', '.SS Changing the schedule', '.SS Disabling', '.SH BACKUPS', '.SH METRICS',
      '.SH JSON OUTPUT', '.SH EXIT STATUS', '.SH KUBEADM UPGRADE']) expect(man).toContain(section);
    expect(man).toContain('backups.keep');
    expect(man).toContain('x509_read_errors');
  });

  it('maintainer scripts enable and start the timer, never the service, and purge config and state only on purge', () => {
    const script = (name: string): string => readFileSync(join(tree, 'DEBIAN', name), 'utf8');
    for (const name of ['postinst', 'prerm', 'postrm']) {
      expect(script(name)).toMatch(/^#!\/bin\/sh\n/);
      expect(script(name)).toMatch(/^set -e$/m);
      execFileSync('sh', ['-n', join(tree, 'DEBIAN', name)]);
    }
    expect(script('postinst')).toMatch(/deb-systemd-helper enable "\$UNIT"/);
    expect(script('postinst')).toMatch(/UNIT='kube-cert-renewer\.timer'/);
    expect(script('postinst')).toMatch(/\[ -d \/run\/systemd\/system \]/);
    expect(script('postinst')).toMatch(/deb-systemd-invoke "\$action" "\$UNIT"/);
    expect(script('postinst') + script('prerm') + script('postrm')).not.toMatch(/kube-cert-renewer\.service/);
    expect(script('prerm')).toMatch(/"\$1" = remove[\s\S]*deb-systemd-invoke stop 'kube-cert-renewer\.timer'/);
    const purge = /purge\)([\s\S]*?);;/.exec(script('postrm'))?.[1] ?? '';
    expect(purge).toMatch(/rm -rf \/etc\/kube-cert-renewer \/var\/lib\/kube-cert-renewer/);
    const remove = /remove\)([\s\S]*?);;/.exec(script('postrm'))?.[1] ?? '';
    expect(remove).not.toMatch(/rm /);
  });

  it('holds an executable that runs (nothing stripped it after the injection)', () => {
    expect(tool(join(tree, 'usr/bin/kube-cert-renewer'), ['--version']).trim()).toMatch(/^kube-cert-renewer \d+\.\d+\.\d+/);
  });
});

describe('the .rpm', () => {
  const rpm = builtPackage('rpm');
  const query = (...args: string[]): string => tool('rpm', ['-qp', ...args, rpm]);

  it('is rpmlint-clean (filters, each with its reason, in packaging/rpm/rpmlintrc)', () => {
    const out = tool('rpmlint', ['-c', join(ROOT, 'packaging/rpm/rpmlint.toml'), '-r', join(ROOT, 'packaging/rpm/rpmlintrc'), rpm]);
    expect(out).toMatch(/ 0 errors, 0 warnings/);
  });

  it('holds exactly the expected files, units under /usr/lib/systemd/system', () => {
    expect(query('-l').split('\n').filter(Boolean)).toEqual([
      '/etc/kube-cert-renewer',
      '/etc/kube-cert-renewer/config.yaml',
      '/usr/bin/kube-cert-renewer',
      '/usr/lib/systemd/system-preset/90-kube-cert-renewer.preset',
      '/usr/lib/systemd/system/kube-cert-renewer.service',
      '/usr/lib/systemd/system/kube-cert-renewer.timer',
      '/usr/share/doc/kube-cert-renewer',
      '/usr/share/doc/kube-cert-renewer/README.md',
      '/usr/share/kube-cert-renewer',
      '/usr/share/kube-cert-renewer/schemas',
      ...SCHEMAS.map((f) => `/usr/share/kube-cert-renewer/schemas/${f}`),
      '/usr/share/licenses/kube-cert-renewer/copyright',
      '/usr/share/man/man8/kube-cert-renewer.8.gz',
    ]);
    expect(query('--configfiles').trim()).toBe('/etc/kube-cert-renewer/config.yaml');
    const flags = query('--qf', '[%{FILEFLAGS:fflags} %{FILEMODES:perms} %{FILENAMES}\n]');
    expect(flags).toMatch(/^cn -rw-r--r-- \/etc\/kube-cert-renewer\/config\.yaml$/m); // %config(noreplace)
    expect(flags).toMatch(/^ -rwxr-xr-x \/usr\/bin\/kube-cert-renewer$/m);
    expect(flags).toMatch(/^l -rw-r--r-- \/usr\/share\/licenses\/kube-cert-renewer\/copyright$/m);
  });

  it('requires systemd and what the executable links against, and compresses with xz', () => {
    const requires = query('-R');
    expect(requires).toMatch(/^systemd$/m);
    expect(requires).toMatch(/^libc\.so\.6\(GLIBC_[\d.]+\)\(64bit\)$/m);
    expect(requires).toMatch(/^libstdc\+\+\.so\.6\(\)\(64bit\)$/m);
    expect(query('--qf', '%{PAYLOADCOMPRESSOR}')).toBe('xz');
  });

  it('scripts enable and start the timer on installation and stop it on removal only', () => {
    const scripts = query('--scripts');
    const section = (name: string): string => new RegExp(`${name} scriptlet \\(using /bin/sh\\):\\n([\\s\\S]*?)(?=\\n\\S+ scriptlet|$)`).exec(scripts)?.[1] ?? '';
    expect(section('postinstall')).toMatch(/if \[ \$1 -eq 1 \]; then[\s\S]*systemctl --no-reload preset kube-cert-renewer\.timer[\s\S]*systemctl start kube-cert-renewer\.timer/);
    expect(section('preuninstall')).toMatch(/if \[ \$1 -eq 0 \]; then\s+systemctl --no-reload disable --now kube-cert-renewer\.timer/);
    expect(section('postuninstall')).toMatch(/systemctl daemon-reload/);
    expect(scripts).not.toMatch(/(start|restart) kube-cert-renewer\.service/);
    for (const name of ['postinstall', 'preuninstall', 'postuninstall']) {
      expect(section(name), name).not.toBe('');
      execFileSync('sh', ['-n'], { input: section(name) });
    }
  });

  it('holds the executable byte for byte: rpmbuild did not strip it', () => {
    const dir = join(work, 'rpm');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('sh', ['-c', `rpm2cpio "$1" | cpio -idm --quiet ./usr/bin/kube-cert-renewer`, 'sh', rpm], { cwd: dir });
    const packaged = readFileSync(join(dir, 'usr/bin/kube-cert-renewer'));
    expect(packaged.equals(readFileSync(join(BUILD_DIR, 'kube-cert-renewer')))).toBe(true);
    expect(tool(join(dir, 'usr/bin/kube-cert-renewer'), ['--version']).trim()).toMatch(/^kube-cert-renewer \d+\.\d+\.\d+/);
  });
});
