/**
 * Which credential of a kubeconfig is the node's (client-go's rule: the current context's user), and what a renewal
 * writes back: the files of a PKI pair with their modes, a kubeconfig with only its credential data changed, and
 * the re-serialised fallback when a value cannot be swapped in place.
 */
import * as yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import {
  CERT_MODE, KEY_MODE, KUBECONFIG_MODE, type KubeconfigDocument, kubeconfigCredentialRefs, renderCredential, renderKubeconfig,
} from './documents.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');
const OLD_CERT = `-----BEGIN CERTIFICATE-----\n${'A'.repeat(64)}\n-----END CERTIFICATE-----\n`;
const OLD_KEY = `-----BEGIN EC PRIVATE KEY-----\n${'B'.repeat(64)}\n-----END EC PRIVATE KEY-----\n`;
const OLD_CA = `-----BEGIN CERTIFICATE-----\n${'C'.repeat(64)}\n-----END CERTIFICATE-----\n`;

type Obj = Record<string, any>;

/** kubeadm's admin.conf shape, with a second user and context the way operators add them. */
function twoUsers(current = 'kubernetes-admin@kubernetes'): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'kubernetes', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': b64(OLD_CA) } },
      { name: 'other', cluster: { server: 'https://127.0.0.2:6443', 'certificate-authority-data': b64('other CA') } },
    ],
    contexts: [
      { name: 'viewer@other', context: { cluster: 'other', user: 'viewer' } },
      { name: 'kubernetes-admin@kubernetes', context: { cluster: 'kubernetes', user: 'kubernetes-admin' } },
    ],
    'current-context': current,
    users: [
      { name: 'viewer', user: { 'client-certificate': '/home/v/v.crt', 'client-key': '/home/v/v.key' } },
      { name: 'kubernetes-admin', user: { 'client-certificate-data': b64(OLD_CERT), 'client-key-data': b64(OLD_KEY) } },
    ],
  };
}

describe('kubeconfigCredentialRefs', () => {
  it('takes the current context’s user and cluster among several', () => {
    expect(kubeconfigCredentialRefs(twoUsers())).toStrictEqual({
      userName: 'kubernetes-admin', clusterName: 'kubernetes', certData: b64(OLD_CERT), keyData: b64(OLD_KEY), caData: b64(OLD_CA),
    });
    expect(kubeconfigCredentialRefs(twoUsers('viewer@other'))).toStrictEqual({
      userName: 'viewer', clusterName: 'other', certFile: '/home/v/v.crt', keyFile: '/home/v/v.key', caData: b64('other CA'),
    });
  });

  it('with no current context, takes the only context', () => {
    const doc = twoUsers();
    delete doc['current-context'];
    doc.contexts = [doc.contexts[1]];
    expect(kubeconfigCredentialRefs(doc)).toMatchObject({ userName: 'kubernetes-admin', clusterName: 'kubernetes' });
  });

  it('with no usable context, takes the only user and the only cluster', () => {
    const doc: Obj = {
      clusters: [{ name: 'c', cluster: { 'certificate-authority-data': b64(OLD_CA) } }],
      users: [{ name: 'u', user: { 'client-certificate-data': b64(OLD_CERT), 'client-key-data': b64(OLD_KEY) } }],
    };
    expect(kubeconfigCredentialRefs(doc)).toStrictEqual({ userName: 'u', certData: b64(OLD_CERT), keyData: b64(OLD_KEY), caData: b64(OLD_CA) });
    const unnamed = { users: [{ user: { 'client-certificate-data': b64(OLD_CERT) } }] };
    expect(kubeconfigCredentialRefs(unnamed)).toStrictEqual({ userName: '', certData: b64(OLD_CERT) });
  });

  it('refuses to guess among several contexts when none is current', () => {
    const doc = twoUsers();
    delete doc['current-context'];
    expect(() => kubeconfigCredentialRefs(doc)).toThrowError('has no user for its current context');
  });

  it('reads a context or cluster entry without its mapping as naming nothing', () => {
    const doc: Obj = {
      contexts: [{ name: 'c' }],
      clusters: [{ name: 'k' }],
      users: [{ name: 'u', user: { 'client-certificate-data': b64(OLD_CERT) } }],
    };
    expect(kubeconfigCredentialRefs(doc)).toStrictEqual({ userName: 'u', certData: b64(OLD_CERT) });
  });

  it('takes no CA from a cluster the context does not name, among several', () => {
    const doc = twoUsers();
    doc.contexts[1].context.cluster = 'gone';
    expect(kubeconfigCredentialRefs(doc)).toStrictEqual({
      userName: 'kubernetes-admin', clusterName: 'gone', certData: b64(OLD_CERT), keyData: b64(OLD_KEY),
    });
  });

  it('treats empty values as absent', () => {
    const doc = twoUsers();
    doc.users[1].user = { 'client-certificate-data': '', 'client-key-data': b64(OLD_KEY), 'client-certificate': '', 'client-key': '' };
    doc.clusters[0].cluster['certificate-authority-data'] = '';
    expect(kubeconfigCredentialRefs(doc)).toStrictEqual({ userName: 'kubernetes-admin', clusterName: 'kubernetes', keyData: b64(OLD_KEY) });
    doc.users[1].user = { 'client-certificate-data': 12345, 'client-key-data': { nested: true } };
    expect(kubeconfigCredentialRefs(doc)).toStrictEqual({ userName: 'kubernetes-admin', clusterName: 'kubernetes' });
  });

  it.each([
    ['null', null, 'is not a kubeconfig mapping'],
    ['a list', [twoUsers()], 'is not a kubeconfig mapping'],
    ['a string', 'apiVersion: v1', 'is not a kubeconfig mapping'],
    ['users not a list', { ...twoUsers(), users: { name: 'kubernetes-admin' } }, 'has no user for its current context'],
    ['the context names a user that is not there', { ...twoUsers(), users: [twoUsers().users[0], { name: 'x', user: {} }] }, 'has no user for its current context'],
    ['the user has no user mapping', { ...twoUsers(), users: [{ name: 'kubernetes-admin', user: null }] }, 'has no user for its current context'],
    ['the user mapping is a string', { ...twoUsers(), users: [{ name: 'kubernetes-admin', user: 'token' }] }, 'has no user for its current context'],
  ])('refuses %s', (_, doc, message) => {
    expect(() => kubeconfigCredentialRefs(doc)).toThrowError(message);
  });
});

describe('renderKubeconfig', () => {
  const doc = (text: string): KubeconfigDocument => ({
    kind: 'kubeconfig', path: '/etc/kubernetes/admin.conf', text, form: 'embedded', userName: 'kubernetes-admin', keyEncoding: 'sec1',
  });
  const text = yaml.dump(twoUsers(), { lineWidth: -1 });

  it('changes exactly the two credential lines in place', () => {
    const out = renderKubeconfig(doc(text), 'NEW CERT\n', 'NEW KEY\n', OLD_CA);
    const before = text.split('\n');
    const after = out.split('\n');
    expect(after).toHaveLength(before.length);
    const changed = before.flatMap((l, i) => (l === after[i] ? [] : [[l, after[i]]]));
    expect(changed).toEqual([
      [`      client-certificate-data: ${b64(OLD_CERT)}`, `      client-certificate-data: ${b64('NEW CERT\n')}`],
      [`      client-key-data: ${b64(OLD_KEY)}`, `      client-key-data: ${b64('NEW KEY\n')}`],
    ]);
  });

  it('rotates the CA data in place when the CA on disk differs: three lines change', () => {
    const out = renderKubeconfig(doc(text), 'NEW CERT\n', 'NEW KEY\n', 'ROTATED CA\n');
    const before = text.split('\n');
    const changed = out.split('\n').flatMap((l, i) => (l === before[i] ? [] : [l.trim()]));
    expect(changed).toEqual([
      `certificate-authority-data: ${b64('ROTATED CA\n')}`,
      `client-certificate-data: ${b64('NEW CERT\n')}`,
      `client-key-data: ${b64('NEW KEY\n')}`,
    ]);
  });

  it('leaves an unchanged CA alone even where two clusters share it, keeping the file in place', () => {
    const shared = twoUsers();
    shared.clusters[1].cluster['certificate-authority-data'] = b64(OLD_CA);
    const sharedText = yaml.dump(shared, { lineWidth: -1 });
    const out = renderKubeconfig(doc(sharedText), 'C\n', 'K\n', OLD_CA);
    expect(out).toBe(sharedText.replace(b64(OLD_CERT), b64('C\n')).replace(b64(OLD_KEY), b64('K\n')));
  });

  it('adds no CA data where the file has none, even when given a CA', () => {
    const noCa = twoUsers();
    delete noCa.clusters[0].cluster['certificate-authority-data'];
    const out = renderKubeconfig(doc(yaml.dump(noCa)), 'C\n', 'K\n', 'NEW CA\n');
    expect((yaml.load(out) as Obj).clusters[0].cluster).toStrictEqual({ server: 'https://127.0.0.1:6443' });
  });

  it('re-serialises when the file has no key data to swap, adding the key to the right user only', () => {
    const certOnly = twoUsers();
    delete certOnly.users[1].user['client-key-data'];
    const out = yaml.load(renderKubeconfig(doc(yaml.dump(certOnly)), 'C\n', 'K\n')) as Obj;
    const want = twoUsers();
    want.users[1].user = { 'client-certificate-data': b64('C\n'), 'client-key-data': b64('K\n') };
    expect(out).toStrictEqual(want);
  });

  it('re-serialises when a value appears twice, rotating the CA of the current cluster only', () => {
    const dup = twoUsers();
    dup.clusters[1].cluster['certificate-authority-data'] = b64(OLD_CA);
    const out = yaml.load(renderKubeconfig(doc(yaml.dump(dup)), 'C\n', 'K\n', 'ROTATED CA\n')) as Obj;
    const want = structuredClone(dup);
    want.users[1].user = { 'client-certificate-data': b64('C\n'), 'client-key-data': b64('K\n') };
    want.clusters[0].cluster['certificate-authority-data'] = b64('ROTATED CA\n');
    expect(out).toStrictEqual(want);
  });

  it('in the fallback, rotates the CA of the node’s cluster even when it is not listed first', () => {
    const dup = twoUsers();
    dup.clusters.reverse();
    dup.clusters[0].cluster['certificate-authority-data'] = b64(OLD_CA);
    const out = yaml.load(renderKubeconfig(doc(yaml.dump(dup)), 'C\n', 'K\n', 'ROTATED CA\n')) as Obj;
    expect(out.clusters.map((c: Obj) => [c.name, unb64(c.cluster['certificate-authority-data'])])).toEqual([
      ['other', OLD_CA], ['kubernetes', 'ROTATED CA\n'],
    ]);
  });

  it('in the fallback, leaves the CA data alone when no CA is given', () => {
    const dup = twoUsers();
    dup.clusters[1].cluster['certificate-authority-data'] = b64(OLD_CA);
    dup.users[0].user = { 'client-certificate-data': b64(OLD_CERT) };
    const out = yaml.load(renderKubeconfig(doc(yaml.dump(dup)), 'C\n', 'K\n')) as Obj;
    expect(out.clusters).toStrictEqual(dup.clusters);
    expect(out.users[0]).toStrictEqual(dup.users[0]);
    expect(unb64(out.users[1].user['client-certificate-data'])).toBe('C\n');
  });
});

describe('renderCredential', () => {
  it('writes a PKI pair key first (0600), then the certificate (0644)', () => {
    const writes = renderCredential(
      { kind: 'pki-pair', certPath: '/etc/kubernetes/pki/apiserver.crt', keyPath: '/etc/kubernetes/pki/apiserver.key', keyEncoding: 'pkcs1' },
      'CERT', 'KEY',
    );
    expect(writes).toStrictEqual([
      { path: '/etc/kubernetes/pki/apiserver.key', content: 'KEY', mode: 0o600 },
      { path: '/etc/kubernetes/pki/apiserver.crt', content: 'CERT', mode: 0o644 },
    ]);
    expect([KEY_MODE, CERT_MODE, KUBECONFIG_MODE]).toEqual([0o600, 0o644, 0o600]);
  });

  it('keeps the chain that followed the leaf in its file', () => {
    const writes = renderCredential(
      { kind: 'pki-pair', certPath: '/p/front-proxy-client.crt', keyPath: '/p/front-proxy-client.key', keyEncoding: 'pkcs1', chainAfterLeaf: 'INTERMEDIATE\n' },
      'CERT\n', 'KEY',
    );
    expect(writes[1]).toStrictEqual({ path: '/p/front-proxy-client.crt', content: 'CERT\nINTERMEDIATE\n', mode: 0o644 });
  });

  it('writes an embedded kubeconfig as one 0600 file', () => {
    const text = yaml.dump(twoUsers());
    const writes = renderCredential(
      { kind: 'kubeconfig', path: '/etc/kubernetes/admin.conf', text, form: 'embedded', userName: 'kubernetes-admin', keyEncoding: 'sec1' },
      'C\n', 'K\n',
    );
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({ path: '/etc/kubernetes/admin.conf', mode: 0o600 });
    expect(unb64(kubeconfigCredentialRefs(yaml.load(writes[0]?.content ?? '')).keyData)).toBe('K\n');
  });

  it('refuses a kubeconfig that references files: the kubelet rotates those', () => {
    const d: KubeconfigDocument = {
      kind: 'kubeconfig', path: '/etc/kubernetes/kubelet.conf', text: '', form: 'file', userName: 'default-auth', keyEncoding: 'pkcs8',
    };
    expect(() => renderCredential(d, 'C', 'K')).toThrowError('/etc/kubernetes/kubelet.conf: references its certificate files; the kubelet rotates them');
  });
});
