import { describe, expect, it } from 'vitest';
import * as yaml from 'js-yaml';
import { renderManifests } from '../../test/helpers/manifests.js';
import { HostFileError } from '../errors.js';
import { flagValue, manifestArgv, parseManifest, patchRestartAnnotation, restartAnnotationValue } from './manifest.js';

const KEY = 'kube-cert-renewer/restartedAt';
const VALUE = '2026-11-22T22:02:31Z';
const F = '/etc/kubernetes/manifests/etcd.yaml';

// kubeadm's own manifests (an independent rendering, test/helpers/manifests.ts)
const KUBEADM = renderManifests({
  hostname: 'cp-1', advertiseAddress: '10.0.0.5',
  ports: { apiserver: 6443, etcdClient: 2379, etcdPeer: 2380, etcdMetrics: 2381, controllerManager: 10257, scheduler: 10259 },
  serviceSubnet: '10.96.0.0/12', podSubnet: '10.244.0.0/16', externalCA: false,
  kubernetesVersion: 'v1.31.4', etcdImageTag: '3.5.15-0',
});

type Obj = Record<string, any>;
const load = (text: string): Obj => yaml.load(text) as Obj;

/** The patched document deep-equals the original with exactly the one annotation set. */
function expectOnlyAnnotation(original: string, patched: string, key = KEY, value = VALUE): void {
  const want = structuredClone(load(original));
  want.metadata.annotations = { ...(want.metadata.annotations ?? {}), [key]: value };
  expect(load(patched)).toStrictEqual(want);
}

/** Lines of `patched` not in `original` (a line diff that only allows insertions and replacements). */
function changedLines(original: string, patched: string): { added: string[]; removed: string[] } {
  const a = original.split('\n');
  const b = patched.split('\n');
  return { added: b.filter((l) => !a.includes(l)), removed: a.filter((l) => !b.includes(l)) };
}

describe('patchRestartAnnotation', () => {
  it('adds the key to an existing annotations map, changing nothing else (kubeadm etcd.yaml)', () => {
    const original = KUBEADM['etcd.yaml'] as string;
    const patched = patchRestartAnnotation(original, F, KEY, VALUE);
    expectOnlyAnnotation(original, patched);
    expect(changedLines(original, patched)).toEqual({ added: [`    ${KEY}: "${VALUE}"`], removed: [] });
    expect(load(patched).metadata.annotations['kubeadm.kubernetes.io/etcd.advertise-client-urls']).toBe('https://10.0.0.5:2379');
  });

  it('creates the annotations map when metadata has none (kubeadm kube-scheduler.yaml)', () => {
    const original = KUBEADM['kube-scheduler.yaml'] as string;
    expect(load(original).metadata.annotations).toBeUndefined();
    const patched = patchRestartAnnotation(original, F, KEY, VALUE);
    expectOnlyAnnotation(original, patched);
    expect(changedLines(original, patched)).toEqual({ added: ['  annotations:', `    ${KEY}: "${VALUE}"`], removed: [] });
  });

  it.each([
    ['plain', `${KEY}: "2020-01-01T00:00:00Z"`],
    ['quoted key', `"${KEY}": "2020-01-01T00:00:00Z"`],
    ['unquoted value', `${KEY}: 2020-01-01T00:00:00Z`],
  ])('replaces the value when the key is already present (%s), without duplicating it', (_, line) => {
    const original = (KUBEADM['etcd.yaml'] as string).replace('  annotations:\n', `  annotations:\n    ${line}\n`);
    expect(load(original).metadata.annotations[KEY]).toBeDefined();
    const patched = patchRestartAnnotation(original, F, KEY, VALUE);
    expectOnlyAnnotation(original, patched);
    expect(patched.split('\n').filter((l) => l.includes(KEY))).toEqual([`    ${KEY}: "${VALUE}"`]);
    expect(changedLines(original, patched).removed).toEqual([`    ${line}`]);
  });

  it('keeps comments and the layout of everything else', () => {
    const original = `# Managed by kubeadm; hand edits below.
apiVersion: v1
kind: Pod
metadata:
  # the annotations below are kubeadm's
  annotations:
    # where clients reach etcd
    kubeadm.kubernetes.io/etcd.advertise-client-urls: https://10.0.0.5:2379
  labels:
    component: etcd # static pod
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --name=cp-1   # trailing comment
    name: etcd
`;
    const patched = patchRestartAnnotation(original, F, KEY, VALUE);
    expectOnlyAnnotation(original, patched);
    for (const comment of original.split('\n').filter((l) => l.includes('#'))) expect(patched).toContain(comment);
    expect(changedLines(original, patched)).toEqual({ added: [`    ${KEY}: "${VALUE}"`], removed: [] });
  });

  it('works with a different indentation width and a document start marker', () => {
    const original = `---
apiVersion: v1
kind: Pod
metadata:
    name: etcd
    annotations:
        a.example/x: "1"
spec:
    containers:
    -   name: etcd
        command: [etcd, --name=cp-1]
`;
    const patched = patchRestartAnnotation(original, F, KEY, VALUE);
    expectOnlyAnnotation(original, patched);
    expect(changedLines(original, patched)).toEqual({ added: [`        ${KEY}: "${VALUE}"`], removed: [] });
  });

  it.each([
    ['flow-style metadata', 'apiVersion: v1\nkind: Pod\nmetadata: {name: etcd, namespace: kube-system, annotations: {a.example/x: "1"}}\nspec: {containers: [{name: etcd, command: [etcd]}]}\n'],
    ['flow-style empty annotations', 'apiVersion: v1\nkind: Pod\nmetadata:\n  annotations: {}\n  name: etcd\nspec:\n  containers:\n  - name: etcd\n'],
    ['a comment after metadata:', 'apiVersion: v1\nkind: Pod\nmetadata: # the pod\n  name: etcd\nspec:\n  containers:\n  - name: etcd\n'],
    ['JSON', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'etcd', annotations: { 'a.example/x': '1' } }, spec: { containers: [{ name: 'etcd' }] } })],
  ])('falls back to re-serialising when the text cannot be patched in place: %s', (_, original) => {
    const patched = patchRestartAnnotation(original, F, KEY, VALUE);
    expectOnlyAnnotation(original, patched);
    // the timestamp stays a string (an unquoted one would load as a YAML timestamp)
    expect(typeof load(patched).metadata.annotations[KEY]).toBe('string');
  });

  it('keeps CRLF line endings consistent', () => {
    const original = (KUBEADM['etcd.yaml'] as string).replace(/\n/g, '\r\n');
    const patched = patchRestartAnnotation(original, F, KEY, VALUE);
    expectOnlyAnnotation(original, patched);
    expect(patched.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });

  it('rejects what is not a Pod manifest', () => {
    expect(() => patchRestartAnnotation('kind: Deployment\nmetadata:\n  name: x\n', F, KEY, VALUE)).toThrow(HostFileError);
    expect(() => patchRestartAnnotation('metadata: [\n', F, KEY, VALUE)).toThrow(/is not valid YAML/);
  });
});

describe('restartAnnotationValue', () => {
  const now = new Date('2026-11-22T22:02:31.456Z');

  it('is an RFC 3339 time to the second', () => {
    expect(restartAnnotationValue(now, undefined)).toBe('2026-11-22T22:02:31Z');
    expect(restartAnnotationValue(now, '2026-11-22T22:02:30Z')).toBe('2026-11-22T22:02:31Z');
  });

  it('is always later than the value already there, so the pod hash changes and never repeats', () => {
    expect(restartAnnotationValue(now, '2026-11-22T22:02:31Z')).toBe('2026-11-22T22:02:31.456Z');
    expect(restartAnnotationValue(now, '2026-11-22T22:02:31.456Z')).toBe('2026-11-22T22:02:31.457Z');
    // a clock that went backwards (or a value from the future) still moves forward
    expect(restartAnnotationValue(now, '2026-11-22T23:00:00Z')).toBe('2026-11-22T23:00:00.001Z');
    // the value of another tool (not a time) is simply replaced
    expect(restartAnnotationValue(now, 'yes')).toBe('2026-11-22T22:02:31Z');
    // as is a string Date.parse would read as a far-off date: the value is now, not year 3000 and one millisecond
    expect(restartAnnotationValue(now, '3000')).toBe('2026-11-22T22:02:31Z');
    expect(restartAnnotationValue(now, 'Sat, 01 Jan 2028 00:00:00 GMT')).toBe('2026-11-22T22:02:31Z');
    expect(restartAnnotationValue(now, '2026-11-22T23:00:00.5Z')).toBe('2026-11-22T23:00:00.501Z');
    let value: string | undefined;
    const values = new Set<string>();
    for (let i = 0; i < 5; i++) {
      value = restartAnnotationValue(now, value);
      expect(value).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/);
      values.add(value);
    }
    expect(values.size).toBe(5);
  });
});

describe('manifest flags', () => {
  it('reads command and args of the first container, with = and separate values', () => {
    const pod = parseManifest('kind: Pod\nspec:\n  containers:\n  - command: [etcd, --cert-file=/a.crt]\n    args: [--key-file, /a.key]\n', F);
    const argv = manifestArgv(pod);
    expect(argv).toEqual(['etcd', '--cert-file=/a.crt', '--key-file', '/a.key']);
    expect(flagValue(argv, 'cert-file')).toBe('/a.crt');
    expect(flagValue(argv, 'key-file')).toBe('/a.key');
    expect(flagValue(argv, 'data-dir')).toBeUndefined();
  });
});
