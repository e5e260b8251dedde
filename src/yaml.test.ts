import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dumpYaml, loadYaml, yamlErrorText } from './yaml.js';

describe('loadYaml', () => {
  it('reads the shipped configuration file (every setting commented out)', () => {
    const text = readFileSync(join(__dirname, '../packaging/config.yaml'), 'utf8');
    const header = { apiVersion: 'kube-cert-renewer.io/v1alpha1', kind: 'RenewerConfiguration' };
    expect(loadYaml(text, 'config.yaml')).toEqual(header);
    const uncommented = text.replace(/^#(renewBefore:.*)$/m, '$1');
    expect(uncommented).not.toBe(text);
    expect(loadYaml(uncommented, 'config.yaml')).toEqual({ ...header, renewBefore: '90d' });
  });

  it('keeps YAML 1.2 core types: 0755 is a number, yes is a string, 2026-01-01 a string', () => {
    expect(loadYaml('a: 0755\nb: yes\nc: 2026-01-01\nd: ~\n', 'f.yaml')).toEqual({ a: 755, b: 'yes', c: '2026-01-01', d: null });
  });

  it('errors name the position in one line', () => {
    let caught: unknown;
    try {
      loadYaml('a:\n  b: c\n d: e\n', 'f.yaml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeDefined();
    expect(yamlErrorText(caught)).toMatch(/ at line 3, column \d+$/);
    expect(yamlErrorText(new Error('plain'))).toBe('plain');
  });
});

describe('dumpYaml', () => {
  it('writes long base64 values on one line and reads back the same document', () => {
    const doc = { users: [{ name: 'u', user: { 'client-certificate-data': 'QUJD'.repeat(100) } }] };
    const text = dumpYaml(doc);
    expect(text).toMatch(/client-certificate-data: (QUJD){100}\n/);
    expect(loadYaml(text, 'x')).toEqual(doc);
  });
});
