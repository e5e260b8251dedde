import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jsYaml from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { createKubeadmTree } from '../../test/helpers/kubeadm-fixture.js';
import { loadYaml, parseYamlSubset } from './yaml.js';

const b64 = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64').repeat(8);

const ACCEPTED = {
  'client-go kubeconfig': `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${b64}
    server: https://10.0.0.1:6443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: system:node:cp-1
  name: system:node:cp-1@kubernetes
current-context: system:node:cp-1@kubernetes
kind: Config
preferences: {}
users:
- name: system:node:cp-1
  user:
    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem
    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem
`,
  'comments, quotes, CRLF, nested lists': '# a comment\r\nrenewInterval: "30d"\r\nrestart:\r\n  # inner\r\n  annotation: \'it\'\'s/ok\'\r\nhooks:\r\n  postRenew:\r\n  - systemctl reload x\r\n  - echo done\r\nlist: []\r\n',
  'sequence of scalars deeper': 'a:\n  b:\n    - one\n    - two\n  c: z\n',
  'booleans, null and integers': 'restart:\n  enabled: false\n  verify: True\nbackups:\n  keep: 10\nzero: 0\nneg: -3\nnothing: ~\nn2: null\n',
};

const DECLINED = {
  'a float': 'validity: 1.5\n',
  'an octal-looking number': 'mode: 0755\n',
  'a hex number': 'a: 0x1F\n',
  'null value': 'a:\n',
  'inline comment': 'mode: renew # the default\n',
  'anchor': 'a: &x b\nc: *x\n',
  'block scalar': 'a: |\n  text\n',
  'flow mapping': 'a: {b: c}\n',
  'duplicate key': 'a: b\na: c\n',
  'tab indentation': 'a:\n\tb: c\n',
  'document marker': '---\na: b\n',
  'quoted key': '"a": b\n',
  'escape in double quotes': 'a: "\\u0041"\n',
  'yes is left to js-yaml': 'a: yes\n',
  'timestamp-like': 'a: 2026-01-01\n',
  'colon-space in a value': 'a: b: c\n',
  'bad indentation': 'a:\n    b: c\n  d: e\n',
  'empty document': '# only a comment\n',
};

describe('parseYamlSubset', () => {
  it.each(Object.entries(ACCEPTED))('%s: accepted, exactly what js-yaml gives', (_, text) => {
    const fast = parseYamlSubset(text);
    expect(fast).toBeDefined();
    expect(fast).toEqual(jsYaml.load(text));
  });

  it.each(Object.entries(DECLINED))('%s: declined, js-yaml decides', (_, text) => {
    expect(parseYamlSubset(text)).toBeUndefined();
    let expected: unknown;
    try {
      expected = jsYaml.load(text);
    } catch {
      expect(() => loadYaml(text, 'f.yaml')).toThrow();
      return;
    }
    expect(loadYaml(text, 'f.yaml')).toEqual(expected);
  });

  it('accepts the shipped configuration file as js-yaml reads it', () => {
    const text = readFileSync(join(__dirname, '../../packaging/config.yaml'), 'utf8');
    expect(loadYaml(text, 'config.yaml')).toEqual(jsYaml.load(text) ?? undefined);
  });
});

describe('kubeconfigs written like kubeadm’s (openssl fixture)', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it.each([{ kubeletConf: 'embedded' as const }, { joinedNode: true }])('take the fast path with the same result: %j', async (options) => {
    const dir = mkdtempSync(join(tmpdir(), 'kcr-yaml-'));
    dirs.push(dir);
    const fx = await createKubeadmTree(dir, { keyAlgorithm: 'ecdsa-p256', reuseKeys: true, ...options });
    const confs = readdirSync(fx.kubernetesDir).filter((f) => f.endsWith('.conf'));
    expect(confs.length).toBeGreaterThanOrEqual(4);
    for (const f of confs) {
      const text = readFileSync(join(fx.kubernetesDir, f), 'utf8');
      const fast = parseYamlSubset(text);
      expect(fast, f).toBeDefined();
      expect(fast, f).toEqual(jsYaml.load(text));
    }
    for (const f of readdirSync(fx.manifestsDir)) {
      const text = readFileSync(join(fx.manifestsDir, f), 'utf8');
      expect(loadYaml(text, f), f).toEqual(jsYaml.load(text));
    }
  });
});
