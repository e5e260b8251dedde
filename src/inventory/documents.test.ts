import { generateKeyPairSync } from 'node:crypto';
import * as yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { type KubeconfigDocument, kubeconfigCredentialRefs, parseKubeconfigText, renderKubeconfig } from './documents.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string;
const CERT = `-----BEGIN CERTIFICATE-----\n${'A'.repeat(64)}\n-----END CERTIFICATE-----\n`;

function kubeconfig(extra = ''): string {
  return `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${b64('CA PEM '.repeat(20))}
    server: https://10.0.0.1:6443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubernetes-admin
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
kind: Config
preferences: {}
users:
- name: kubernetes-admin
  user:
    client-certificate-data: ${b64(CERT)}
    client-key-data: ${b64(key)}
${extra}`;
}

describe('parseKubeconfigText', () => {
  it('reads the credential of a client-go kubeconfig, CRLF too', () => {
    for (const text of [kubeconfig(), kubeconfig().replace(/\n/g, '\r\n')]) {
      const refs = kubeconfigCredentialRefs(parseKubeconfigText(text, 'x'));
      expect(Buffer.from(refs.certData ?? '', 'base64').toString()).toBe(CERT);
      expect(refs.userName).toBe('kubernetes-admin');
    }
  });

  it('fails on broken YAML with js-yaml\'s error, naming the file and the line', () => {
    const broken = kubeconfig().replace('kind: Config', 'kind: Config\n  bad: [');
    expect(() => parseKubeconfigText(broken, '/etc/kubernetes/admin.conf')).toThrow(/admin\.conf.*\(\d+:\d+\)|line \d+/s);
  });
});

describe('renderKubeconfig', () => {
  const doc = (text: string): KubeconfigDocument => ({
    kind: 'kubeconfig', path: '/etc/kubernetes/admin.conf', text, form: 'embedded', userName: 'kubernetes-admin',
    keyEncoding: 'sec1',
  });

  it('swaps only the client certificate and key, every other byte stays', () => {
    const text = kubeconfig();
    const out = renderKubeconfig(doc(text), 'NEW CERT\n', 'NEW KEY\n');
    const refs = kubeconfigCredentialRefs(yaml.load(out));
    expect(Buffer.from(refs.certData ?? '', 'base64').toString()).toBe('NEW CERT\n');
    expect(Buffer.from(refs.keyData ?? '', 'base64').toString()).toBe('NEW KEY\n');
    const strip = (t: string): string => t.replace(/client-(certificate|key)-data: \S+/g, '');
    expect(strip(out)).toBe(strip(text));
  });

  it('updates certificate-authority-data only when the CA on disk differs', () => {
    const text = kubeconfig();
    const sameCa = renderKubeconfig(doc(text), 'C\n', 'K\n', 'CA PEM '.repeat(20));
    expect(sameCa).toContain(b64('CA PEM '.repeat(20)));
    const newCa = renderKubeconfig(doc(text), 'C\n', 'K\n', 'ROTATED CA\n');
    expect(kubeconfigCredentialRefs(yaml.load(newCa)).caData).toBe(b64('ROTATED CA\n'));
  });

  it('re-serialises, values kept, when a value is not unique in the text', () => {
    const text = kubeconfig().replace('preferences: {}', `preferences: {}\nextensions:\n- name: copy\n  extension:\n    same: ${b64(CERT)}`);
    const out = renderKubeconfig(doc(text), 'C\n', 'K\n');
    const parsed = yaml.load(out) as { extensions: Array<{ extension: { same: string } }> };
    expect(parsed.extensions[0]?.extension.same).toBe(b64(CERT));
    expect(Buffer.from(kubeconfigCredentialRefs(parsed).certData ?? '', 'base64').toString()).toBe('C\n');
  });

  it('re-serialising rotates the CA of the only cluster when the context names none, as the in-place swap does', () => {
    // No client-key-data line (the key must be added) forces the re-serialising path.
    const text = kubeconfig().replace('    cluster: kubernetes\n', '').replace(/ {4}client-key-data: .*\n/, '');
    expect(kubeconfigCredentialRefs(yaml.load(text)).caData, 'the inventory reads the only cluster\'s CA').toBe(b64('CA PEM '.repeat(20)));
    const out = renderKubeconfig(doc(text), 'C\n', 'K\n', 'ROTATED CA\n');
    const refs = kubeconfigCredentialRefs(yaml.load(out));
    expect(refs.caData).toBe(b64('ROTATED CA\n'));
    expect(refs.keyData).toBe(b64('K\n'));
  });

  it('re-serialising writes into the user of the current context, not the first user listed', () => {
    const other = '- name: aaa-other\n  user:\n    token: abc\n';
    const text = kubeconfig().replace('users:\n', `users:\n${other}`).replace(/ {4}client-key-data: .*\n/, '');
    const out = renderKubeconfig(doc(text), 'C\n', 'K\n');
    const parsed = yaml.load(out) as { users: Array<{ name: string; user: Record<string, string> }> };
    expect(parsed.users[0]).toEqual({ name: 'aaa-other', user: { token: 'abc' } });
    expect(parsed.users[1]?.user['client-certificate-data']).toBe(b64('C\n'));
    expect(parsed.users[1]?.user['client-key-data']).toBe(b64('K\n'));
  });
});
