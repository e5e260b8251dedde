import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { defaultConfig, loadConfig, parseConfig } from './config.js';

const F = '/etc/kube-cert-renewer/config.yaml';

describe('parseConfig', () => {
  it('gives defaults for an empty document', () => {
    expect(parseConfig(F, null)).toEqual(defaultConfig());
  });

  it('reads every documented key', () => {
    const c = parseConfig(F, {
      apiVersion: 'kube-cert-renewer.io/v1alpha1',
      kind: 'RenewerConfiguration',
      renewInterval: '30d',
      renewBefore: '720h',
      validity: '90d',
      mode: 'monitor',
      restart: {
        enabled: false, annotation: 'example.com/bounced', verify: false, verifyTimeout: '1h30m', mode: 'always',
        reloadBudget: { etcd: '20s', 'kube-apiserver': '2m' }, quorumGuard: false, quorumWait: '0', clusterLock: false,
        lockWait: '10m', lockTTL: '30s',
      },
      hooks: { postRenew: ['echo $KCR_RENEWED'], timeout: '90s' },
      metrics: { textfileDir: '/var/lib/node_exporter' },
      paths: { kubernetes: '/srv/k8s', pki: '/srv/k8s/pki', manifests: '/srv/k8s/manifests', state: '/srv/state' },
      backups: { keep: 3 },
      log: { format: 'json', level: 'debug' },
    });
    expect(c.renewInterval).toBe(30 * 86_400_000);
    expect(c.renewBefore).toBe(30 * 86_400_000);
    expect(c.validity).toBe(90 * 86_400_000);
    expect(c.mode).toBe('monitor');
    expect(c.restart).toEqual({
      enabled: false, annotation: 'example.com/bounced', verify: false, verifyTimeout: 5_400_000, mode: 'always',
      reloadBudget: { etcd: 20_000, 'kube-apiserver': 120_000 }, quorumGuard: false, quorumWait: 0, clusterLock: false,
      lockWait: 600_000, lockTTL: 30_000,
    });
    expect(c.hooks).toEqual({ postRenew: ['echo $KCR_RENEWED'], timeout: 90_000 });
    expect(c.paths.state).toBe('/srv/state');
    expect(c.backups.keep).toBe(3);
    expect(c.log).toEqual({ format: 'json', level: 'debug' });
    expect(c).not.toHaveProperty('apiVersion');
  });

  it.each([
    [{ renewIntervall: '30d' }, /config\.yaml: renewIntervall: unknown key/],
    [{ restart: { verifyTimout: '5m' } }, /restart\.verifyTimout: unknown key/],
    [{ renewInterval: '30 days' }, /renewInterval: "30 days" is not a duration/],
    [{ renewInterval: 30 }, /renewInterval: 30 is not a duration/],
    [{ validity: '10m' }, /validity: "10m" is too short/],
    [{ mode: 'yes' }, /mode: "yes" is not one of renew, monitor/],
    [{ restart: { enabled: 'yes' } }, /restart\.enabled: "yes" is not true or false/],
    [{ restart: 'off' }, /restart: "off" is not a mapping/],
    [{ restart: { annotation: 'not a key!' } }, /restart\.annotation: "not a key!" is not valid/],
    [{ paths: { pki: 'etc/kubernetes/pki' } }, /paths\.pki: "etc\/kubernetes\/pki" is not an absolute path/],
    [{ hooks: { postRenew: 'systemctl reload x' } }, /hooks\.postRenew: .* is not a list of commands/],
    [{ renewBefore: '400d' }, /renewBefore: must be shorter than validity/],
    [{ apiVersion: 'v2' }, /apiVersion: "v2" is not one of/],
    [{ backups: { keep: 0 } }, /backups\.keep: 0 is not a whole number of at least 1/],
    [{ restart: { mode: 'never' } }, /restart\.mode: "never" is not one of auto, always/],
    [{ restart: { reloadBudget: { scheduler: '5s' } } }, /restart\.reloadBudget\.scheduler: unknown key/],
    [{ restart: { lockTTL: '1s' } }, /restart\.lockTTL: "1s" is too short/],
    [{ restart: { quorumGuard: 'off' } }, /restart\.quorumGuard: "off" is not true or false/],
  ])('rejects %j', (doc, message) => {
    expect(() => parseConfig(F, doc)).toThrowError(ConfigError);
    expect(() => parseConfig(F, doc)).toThrowError(message);
  });

  it('rejects a document that is not a mapping', () => {
    expect(() => parseConfig(F, ['a'])).toThrowError(/is not a YAML mapping/);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kcr-config-'));

  it('gives defaults when the default file is missing, an error when an explicit one is', () => {
    expect(loadConfig(join(dir, 'absent.yaml'), false)).toEqual(defaultConfig());
    expect(() => loadConfig(join(dir, 'absent.yaml'), true)).toThrowError(/absent\.yaml: does not exist/);
  });

  it('names the file and line of a YAML syntax error', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'renewInterval: 30d\nrestart:\n  enabled: [true\n');
    expect(() => loadConfig(file, true)).toThrowError(/broken\.yaml: is not valid YAML: .*line/);
  });
});
