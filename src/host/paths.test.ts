import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveUnderRoot } from './paths.js';

const base = mkdtempSync(join(tmpdir(), 'kcr-paths-'));
const root = join(base, 'root');
afterAll(() => rmSync(base, { recursive: true, force: true }));
mkdirSync(join(root, 'etc/kubernetes/pki/real'), { recursive: true });
writeFileSync(join(root, 'etc/kubernetes/pki/real/a.crt'), 'x');
symlinkSync('/etc/kubernetes/pki/real', join(root, 'etc/kubernetes/pki/abs-dir'));
symlinkSync('real/a.crt', join(root, 'etc/kubernetes/pki/rel-file'));
symlinkSync('../../../../../../../../etc/passwd', join(root, 'etc/kubernetes/pki/climb'));
symlinkSync('/etc/kubernetes/pki/loop', join(root, 'etc/kubernetes/pki/loop'));
symlinkSync(base, join(root, 'etc/kubernetes/pki/to-base'));

describe('resolveUnderRoot', () => {
  it.each([
    ['a plain path', 'etc/kubernetes/pki/real/a.crt', 'etc/kubernetes/pki/real/a.crt'],
    ['an absolute directory link', 'etc/kubernetes/pki/abs-dir/a.crt', 'etc/kubernetes/pki/real/a.crt'],
    ['a relative file link', 'etc/kubernetes/pki/rel-file', 'etc/kubernetes/pki/real/a.crt'],
    ['a relative link climbing past the root', 'etc/kubernetes/pki/climb', 'etc/passwd'],
    ['an absolute link to the directory above the root', 'etc/kubernetes/pki/to-base/root/x', `${base.slice(1)}/root/x`],
    ['.. in the path itself', 'etc/../../../../x', 'x'],
    ['a missing tail', 'etc/kubernetes/pki/abs-dir/none/../b', 'etc/kubernetes/pki/real/b'],
  ])('%s', (_what, rel, expected) => {
    expect(resolveUnderRoot(root, join(root, rel))).toBe(join(root, expected));
  });

  it('keeps the last component when asked (a link there is replaced, not followed)', () => {
    expect(resolveUnderRoot(root, join(root, 'etc/kubernetes/pki/rel-file'), false)).toBe(join(root, 'etc/kubernetes/pki/rel-file'));
  });

  it('refuses a symlink loop, naming the path', () => {
    expect(() => resolveUnderRoot(root, join(root, 'etc/kubernetes/pki/loop'))).toThrow(/too many levels of symbolic links/);
  });

  it('leaves paths alone when the root is /', () => {
    expect(resolveUnderRoot('/', '/etc/../x')).toBe('/etc/../x');
  });
});
