/**
 * The in-place patch on layouts kubeadm does not write but hand edits and other tools do: the output must be the
 * input with exactly the annotation line(s) added or replaced, byte for byte — a re-serialised document (the
 * fallback) would also load right, but would drop comments and reformat the file. And what `annotateManifest` writes.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostFileError } from '../errors.js';
import { annotateManifest, manifestArgv, parseManifest, patchRestartAnnotation } from './manifest.js';

const KEY = 'kube-cert-renewer/restartedAt';
const VALUE = '2026-11-22T22:02:31Z';
const LINE = `${KEY}: "${VALUE}"`;
const F = '/etc/kubernetes/manifests/etcd.yaml';

const lines = (...l: string[]): string => l.join('\n');

describe('patchRestartAnnotation in place', () => {
  it.each([
    [
      'metadata is the first line',
      lines('metadata:', '  name: etcd', 'apiVersion: v1', 'kind: Pod', 'spec:', '  containers:', '  - name: etcd', ''),
      lines('metadata:', '  annotations:', `    ${LINE}`, '  name: etcd', 'apiVersion: v1', 'kind: Pod', 'spec:', '  containers:', '  - name: etcd', ''),
    ],
    [
      'metadata is the last block, its annotations end the file without a newline',
      lines('apiVersion: v1', 'kind: Pod', 'spec:', '  containers:', '  - name: etcd', 'metadata:', '  name: etcd', '  annotations:', '    a.example/x: "1"'),
      lines('apiVersion: v1', 'kind: Pod', 'spec:', '  containers:', '  - name: etcd', 'metadata:', '  name: etcd', '  annotations:', `    ${LINE}`, '    a.example/x: "1"'),
    ],
    [
      'trailing blanks after metadata:',
      lines('apiVersion: v1', 'kind: Pod', 'metadata:  ', '  name: etcd', 'spec:', '  containers:', '  - name: etcd', ''),
      lines('apiVersion: v1', 'kind: Pod', 'metadata:  ', '  annotations:', `    ${LINE}`, '  name: etcd', 'spec:', '  containers:', '  - name: etcd', ''),
    ],
    [
      'an empty annotations key',
      lines('apiVersion: v1', 'kind: Pod', 'metadata:', '  name: etcd', '  annotations:', 'spec:', '  containers:', '  - name: etcd', ''),
      lines('apiVersion: v1', 'kind: Pod', 'metadata:', '  name: etcd', '  annotations:', `    ${LINE}`, 'spec:', '  containers:', '  - name: etcd', ''),
    ],
    [
      'a nested metadata: (a volume claim template) before the pod’s own',
      lines(
        'apiVersion: v1', 'kind: Pod', 'spec:', '  containers:', '  - name: etcd', '  volumes:', '  - name: scratch', '    ephemeral:',
        '      volumeClaimTemplate:', '        metadata:', '          labels:', '            type: scratch', '        spec:',
        '          accessModes: [ReadWriteOnce]', 'metadata:', '  name: etcd', '',
      ),
      lines(
        'apiVersion: v1', 'kind: Pod', 'spec:', '  containers:', '  - name: etcd', '  volumes:', '  - name: scratch', '    ephemeral:',
        '      volumeClaimTemplate:', '        metadata:', '          labels:', '            type: scratch', '        spec:',
        '          accessModes: [ReadWriteOnce]', 'metadata:', '  annotations:', `    ${LINE}`, '  name: etcd', '',
      ),
    ],
    [
      'a line of spaces (deeper than the keys) opens metadata',
      lines('apiVersion: v1', 'kind: Pod', 'metadata:', '    ', '  name: etcd', 'spec:', '  containers:', '  - name: etcd', ''),
      lines('apiVersion: v1', 'kind: Pod', 'metadata:', '  annotations:', `    ${LINE}`, '    ', '  name: etcd', 'spec:', '  containers:', '  - name: etcd', ''),
    ],
    [
      'annotations indented deeper than twice the metadata keys, after a line of spaces',
      lines('apiVersion: v1', 'kind: Pod', 'metadata:', '  name: etcd', '  annotations:', '   ', '      a.example/x: "1"', 'spec:', '  containers:', ''),
      lines('apiVersion: v1', 'kind: Pod', 'metadata:', '  name: etcd', '  annotations:', `      ${LINE}`, '   ', '      a.example/x: "1"', 'spec:', '  containers:', ''),
    ],
  ])('%s', (_, original, expected) => {
    expect(patchRestartAnnotation(original, F, KEY, VALUE)).toBe(expected);
  });

  // Comments at column 0 and deeper than the keys, blank lines: inside metadata and inside its annotations.
  const commented = (labels: string[], annotations: string[]): string => lines(
    'apiVersion: v1', 'kind: Pod', 'metadata:', '# written by kubeadm, edited by hand', '      # (an indented note)',
    ...labels, '  annotations:', '', '    # where clients reach etcd',
    '    kubeadm.kubernetes.io/etcd.advertise-client-urls: https://127.0.0.1:2379', '', ...annotations, '  name: etcd', '',
    'spec:', '  containers:', '  - name: etcd', '',
  );
  const sameKeyLabels = ['  labels:', '    component: etcd', `    ${KEY}: "label"`];

  it('replaces the annotation in place past comments and blank lines, leaving a label of the same key alone', () => {
    const original = commented(sameKeyLabels, [`    ${KEY}: "2020-01-01T00:00:00Z"`]);
    expect(patchRestartAnnotation(original, F, KEY, VALUE)).toBe(commented(sameKeyLabels, [`    ${LINE}`]));
  });

  it('adds the annotation in place, not touching a label of the same key after the annotations', () => {
    const original = commented([], ['    a.example/y: "2"']).replace('  name: etcd', sameKeyLabels.join('\n'));
    const expected = original.replace('  annotations:\n', `  annotations:\n    ${LINE}\n`);
    expect(patchRestartAnnotation(original, F, KEY, VALUE)).toBe(expected);
  });

  it('falls back to re-serialising a CRLF document it cannot patch in place, without failing', () => {
    const original = 'apiVersion: v1\r\nkind: Pod\r\nmetadata: {name: etcd}\r\nspec: {containers: [{name: etcd}]}\r\n';
    const patched = patchRestartAnnotation(original, F, KEY, VALUE);
    expect(parseManifest(patched, F)).toStrictEqual({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'etcd', annotations: { [KEY]: VALUE } }, spec: { containers: [{ name: 'etcd' }] },
    });
  });
});

describe('parseManifest', () => {
  it.each([
    ['a null document', '~\n'],
    ['a scalar', 'etcd'],
    ['a list', '- kind: Pod'],
    ['another kind', 'kind: Deployment\nmetadata:\n  name: x\n'],
  ])('refuses %s as not a Pod manifest, saying what to do', (_, text) => {
    const err = (() => {
      try {
        parseManifest(text, F);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(HostFileError);
    expect((err as HostFileError).message).toBe(`${F}: is not a Pod manifest`);
    expect((err as HostFileError).hint).toBe('restore the manifest from a backup');
  });

  it('names the file, the YAML error and what to do', () => {
    try {
      parseManifest('kind: Pod\nmetadata: [\n', F);
      expect.unreachable();
    } catch (err) {
      expect((err as HostFileError).message).toMatch(new RegExp(`^${F}: is not valid YAML: .+ at line \\d+, column \\d+$`));
      expect((err as HostFileError).hint).toBe('restore the manifest from a backup');
    }
  });
});

describe('parseManifest and an alias bomb', () => {
  it('refuses a manifest whose aliases expand past the node limit, naming it and what to do', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const n of 'bcdefg') levels.push(`${n}: &${n} [${Array(10).fill(`*${String.fromCharCode(n.charCodeAt(0) - 1)}`).join(', ')}]`);
    const text = lines('apiVersion: v1', 'kind: Pod', 'metadata:', '  name: etcd', ...levels, '');
    const err = (() => {
      try {
        parseManifest(text, F);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(HostFileError);
    expect((err as HostFileError).message).toMatch(new RegExp(`^${F}: its YAML aliases expand to more than \\d+ nodes \\(an alias bomb\\)`));
    expect((err as HostFileError).hint).toBe('restore the manifest from a backup');
  });
});

describe('manifestArgv', () => {
  it.each([
    ['no spec', 'kind: Pod\n', []],
    ['no containers', 'kind: Pod\nspec:\n  containers: []\n', []],
    ['command only', 'kind: Pod\nspec:\n  containers:\n  - command: [etcd, --name=a]\n', ['etcd', '--name=a']],
    ['args only, numbers as text', 'kind: Pod\nspec:\n  containers:\n  - args: [--port, 2379]\n', ['--port', '2379']],
    ['the first container only', 'kind: Pod\nspec:\n  containers:\n  - command: [a]\n  - command: [b]\n', ['a']],
  ])('%s', (_, text, argv) => {
    expect(manifestArgv(parseManifest(text, F))).toStrictEqual(argv);
  });
});

describe('annotateManifest', () => {
  const manifest = lines('apiVersion: v1', 'kind: Pod', 'metadata:', '  name: etcd', 'spec:', '  containers:', '  - name: etcd', '');

  it('writes the annotation in place, keeping the file’s mode, and returns the value written', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kcr-manifest-')), 'etcd.yaml');
    writeFileSync(file, manifest, { mode: 0o640 });
    const now = new Date('2026-11-22T22:02:31.456Z');
    expect(annotateManifest(file, KEY, now)).toBe('2026-11-22T22:02:31Z');
    expect(readFileSync(file, 'utf8')).toBe(manifest.replace('metadata:\n', `metadata:\n  annotations:\n    ${KEY}: "2026-11-22T22:02:31Z"\n`));
    expect(statSync(file).mode & 0o777).toBe(0o640);
    // A second bounce in the same second must still change the pod.
    expect(annotateManifest(file, KEY, now)).toBe('2026-11-22T22:02:31.456Z');
    expect(readFileSync(file, 'utf8')).toContain(`    ${KEY}: "2026-11-22T22:02:31.456Z"\n`);
  });

  it('replaces a value that is not a time string (another tool’s number) with the time now', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kcr-manifest-')), 'etcd.yaml');
    writeFileSync(file, manifest.replace('metadata:\n', `metadata:\n  annotations:\n    ${KEY}: 5\n`));
    expect(annotateManifest(file, KEY, new Date('2026-11-22T22:02:31.456Z'))).toBe('2026-11-22T22:02:31Z');
  });

  it('does not read another tool’s number as a year: 3000 leaves the time now, not 3000-01-01', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kcr-manifest-')), 'etcd.yaml');
    writeFileSync(file, manifest.replace('metadata:\n', `metadata:\n  annotations:\n    ${KEY}: 3000\n`));
    expect(annotateManifest(file, KEY, new Date('2026-11-22T22:02:31.456Z'))).toBe('2026-11-22T22:02:31Z');
  });
});
