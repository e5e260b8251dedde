/**
 * Config validation, key type by key type: what each accepts (and what it becomes), what it refuses, and that the
 * error names the file and the full key and says what to do. config.test.ts holds the documented example.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { type Config, CONFIG_API_VERSION, CONFIG_KIND, DEFAULT_CONFIG_PATH, configWarnings, defaultConfig, loadConfig, parseConfig } from './config.js';

const F = '/etc/kube-cert-renewer/config.yaml';
const S = 1_000;
const H = 3_600_000;
const D = 86_400_000;

/** The ConfigError parseConfig throws for `doc`. */
function refusal(doc: unknown): ConfigError {
  try {
    parseConfig(F, doc);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`accepted ${JSON.stringify(doc)}`);
}

describe('defaults', () => {
  it('are the ones the README documents', () => {
    expect(defaultConfig()).toMatchObject({
      renewInterval: 0, renewBefore: 90 * D, validity: 365 * D, mode: 'renew',
      restart: {
        enabled: true, annotation: 'kube-cert-renewer/restartedAt', verify: true, verifyTimeout: 5 * 60 * S,
        mode: 'auto', reloadBudget: { etcd: 10 * S, 'kube-apiserver': 75 * S },
        quorumGuard: true, quorumWait: 5 * 60 * S, clusterLock: true, lockWait: 30 * 60 * S, lockTTL: 60 * S,
      },
      hooks: { postRenew: [], timeout: 5 * 60 * S },
      metrics: { textfileDir: '' },
      paths: { kubernetes: '/etc/kubernetes', pki: '/etc/kubernetes/pki', manifests: '/etc/kubernetes/manifests', state: '/var/lib/kube-cert-renewer' },
      backups: { keep: 10 },
      log: { format: 'auto', level: 'info' },
      kubeadm: { wait: 5 * 60 * S },
    });
  });

  it('are a fresh object each time', () => {
    const a = defaultConfig();
    a.hooks.postRenew.push('x');
    a.restart.enabled = false;
    expect(defaultConfig().hooks.postRenew).toEqual([]);
    expect(defaultConfig().restart.enabled).toBe(true);
  });
});

describe('accepted values and what they become', () => {
  it.each([
    ['a duration string', { renewInterval: '12h' }, (c: Config) => c.renewInterval, 12 * H],
    ['the number 0 as a duration (YAML reads `0` as a number)', { renewInterval: 0 }, (c: Config) => c.renewInterval, 0],
    ['validity at its minimum, 1h', { validity: '1h', renewBefore: '30m' }, (c: Config) => c.validity, H],
    ['verifyTimeout at its minimum, 1s', { restart: { verifyTimeout: '1s' } }, (c: Config) => c.restart.verifyTimeout, S],
    ['hooks.timeout at its minimum, 1s', { hooks: { timeout: '1s' } }, (c: Config) => c.hooks.timeout, S],
    ['renewBefore just under validity', { validity: '2h', renewBefore: '1h59m59s' }, (c: Config) => c.renewBefore, 2 * H - S],
    ['false', { restart: { verify: false } }, (c: Config) => c.restart.verify, false],
    ['true', { restart: { enabled: true } }, (c: Config) => c.restart.enabled, true],
    ['keep 1', { backups: { keep: 1 } }, (c: Config) => c.backups.keep, 1],
    ['mode monitor', { mode: 'monitor' }, (c: Config) => c.mode, 'monitor'],
    ['log format text', { log: { format: 'text' } }, (c: Config) => c.log.format, 'text'],
    ['an empty metrics directory (metrics off)', { metrics: { textfileDir: '' } }, (c: Config) => c.metrics.textfileDir, ''],
    ['an annotation without prefix', { restart: { annotation: 'restartedAt' } }, (c: Config) => c.restart.annotation, 'restartedAt'],
    ['an annotation with a dotted prefix', { restart: { annotation: 'ops.example-1.com/re_start.at' } }, (c: Config) => c.restart.annotation, 'ops.example-1.com/re_start.at'],
    ['an annotation name of 63 characters', { restart: { annotation: `a${'b'.repeat(61)}c` } }, (c: Config) => c.restart.annotation.length, 63],
    ['no hooks', { hooks: { postRenew: [] } }, (c: Config) => c.hooks.postRenew, []],
    ['an explicit apiVersion and kind', { apiVersion: CONFIG_API_VERSION, kind: CONFIG_KIND }, (c: Config) => Object.keys(c).sort(), Object.keys(defaultConfig()).sort()],
  ])('%s', (_, doc, pick, want) => {
    expect(pick(parseConfig(F, doc))).toStrictEqual(want);
  });

  it('sets only the keys given in a section, the others keep their defaults', () => {
    const c = parseConfig(F, { restart: { verify: false }, paths: { state: '/srv/state' } });
    expect(c.restart).toStrictEqual({ ...defaultConfig().restart, verify: false });
    expect(c.paths).toStrictEqual({ ...defaultConfig().paths, state: '/srv/state' });
  });

  it('copies the hook list, so the config does not share the parsed document', () => {
    const hooks = ['systemctl reload x'];
    const c = parseConfig(F, { hooks: { postRenew: hooks } });
    hooks.push('rm -rf /');
    expect(c.hooks.postRenew).toStrictEqual(['systemctl reload x']);
  });

  it('gives defaults for no document at all', () => {
    expect(parseConfig(F, undefined)).toStrictEqual(defaultConfig());
    expect(DEFAULT_CONFIG_PATH).toBe(F);
  });
});

describe('refused values', () => {
  it.each([
    ['a number of seconds for a duration', { renewBefore: 30 }, 'renewBefore', '30 is not a duration'],
    ['a boolean for a duration', { renewInterval: false }, 'renewInterval', 'false is not a duration'],
    ['validity just under 1h', { validity: '59m59s' }, 'validity', '"59m59s" is too short'],
    ['a verifyTimeout of 0', { restart: { verifyTimeout: '0' } }, 'restart.verifyTimeout', '"0" is too short'],
    ['a hook timeout of 0', { hooks: { timeout: 0 } }, 'hooks.timeout', '0 is too short'],
    ['"true" in quotes', { restart: { verify: 'true' } }, 'restart.verify', '"true" is not true or false'],
    ['1 for a boolean', { restart: { enabled: 1 } }, 'restart.enabled', '1 is not true or false'],
    ['keep 0', { backups: { keep: 0 } }, 'backups.keep', '0 is not a whole number of at least 1'],
    ['keep 2.5', { backups: { keep: 2.5 } }, 'backups.keep', '2.5 is not a whole number of at least 1'],
    ['keep "3"', { backups: { keep: '3' } }, 'backups.keep', '"3" is not a whole number of at least 1'],
    ['a wrongly cased enum value', { log: { level: 'INFO' } }, 'log.level', '"INFO" is not one of debug, info, warn, error'],
    ['a number for an enum', { log: { format: 1 } }, 'log.format', '1 is not one of auto, journal, text, json'],
    ['another kind', { kind: 'Config' }, 'kind', `"Config" is not one of ${CONFIG_KIND}`],
    ['a number for a path', { paths: { state: 7 } }, 'paths.state', '7 is not a string'],
    ['an empty path', { paths: { pki: '' } }, 'paths.pki', 'must not be empty'],
    ['a relative metrics directory', { metrics: { textfileDir: 'var/lib/node_exporter' } }, 'metrics.textfileDir', '"var/lib/node_exporter" is not an absolute path'],
    ['an upper-case annotation prefix', { restart: { annotation: 'Example.com/x' } }, 'restart.annotation', '"Example.com/x" is not valid'],
    ['an annotation ending in a slash', { restart: { annotation: 'example.com/' } }, 'restart.annotation', '"example.com/" is not valid'],
    ['an annotation name of 64 characters', { restart: { annotation: 'a'.repeat(64) } }, 'restart.annotation', `"${'a'.repeat(64)}" is not valid`],
    ['an empty hook', { hooks: { postRenew: ['true', ''] } }, 'hooks.postRenew', '["true",""] is not a list of commands'],
    ['a hook that is not a string', { hooks: { postRenew: ['true', 1] } }, 'hooks.postRenew', '["true",1] is not a list of commands'],
    ['a section that is null', { log: null }, 'log', 'null is not a mapping'],
    ['a section that is a list', { paths: ['/srv'] }, 'paths', '["/srv"] is not a mapping'],
    ['renewBefore equal to validity', { validity: '90d', renewBefore: '90d' }, 'renewBefore', 'must be shorter than validity'],
  ])('%s', (_, doc, key, message) => {
    const err = refusal(doc);
    expect(err.key).toBe(key);
    expect(err.file).toBe(F);
    expect(err.message.startsWith(`${F}: ${key}: ${message}`)).toBe(true);
    expect(err.exitCode).toBe(2);
  });

  it('says how to write what it refused', () => {
    expect(refusal({ renewBefore: '3 days' }).hint).toBe('write it like 30d, 720h, 90m or 1h30m (0 disables)');
    expect(refusal({ restart: { annotation: 'a b' } }).hint).toBe('a Kubernetes annotation key such as example.com/restartedAt');
    expect(refusal({ hooks: { postRenew: 'x' } }).hint).toBe('write a YAML list of shell command strings');
    expect(refusal({ log: { colour: true } }).hint).toBe('known keys under log: format, level');
    expect(refusal({ colour: true }).hint).toMatch(/^known keys: apiVersion, kind, renewInterval, renewBefore, validity, mode, restart, hooks, metrics, paths, backups, log\b/);
  });

  it('names the full key of an unknown nested key', () => {
    const err = refusal({ restart: { verify: true, verifyTimout: '5m' } });
    expect(err.key).toBe('restart.verifyTimout');
    expect(err.message).toBe(`${F}: restart.verifyTimout: unknown key`);
  });

  it.each([['a string', 'renewInterval: 30d'], ['a number', 42], ['a list', []]])('refuses a document that is %s', (_, doc) => {
    const err = refusal(doc);
    expect(err.key).toBeUndefined();
    expect(err.message).toBe(`${F}: is not a YAML mapping`);
    expect(err.hint).toBe('see the configuration reference in the README');
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kcr-config-'));

  it('reads and validates a file', () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'mode: monitor\nbackups:\n  keep: 3\n');
    expect(loadConfig(file, true)).toStrictEqual({ ...defaultConfig(), mode: 'monitor', backups: { keep: 3 } });
  });

  it('says to check --config for a missing explicit file', () => {
    const file = join(dir, 'absent.yaml');
    expect(() => loadConfig(file, true)).toThrowError(new ConfigError(file, undefined, 'does not exist', 'check the --config path'));
    try {
      loadConfig(file, true);
    } catch (err) {
      expect((err as ConfigError).hint).toBe('check the --config path');
    }
  });

  it('refuses what cannot be read as a file, naming it', () => {
    const err = (() => {
      try {
        loadConfig(dir, false);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message.startsWith(`${dir}: `)).toBe(true);
  });
});

describe('rules across keys, and warnings', () => {
  it('refuses renewInterval and renewBefore both 0: nothing would renew before expiry', () => {
    const err = refusal({ renewInterval: '0', renewBefore: '0' });
    expect(err.key).toBe('renewInterval, renewBefore');
    expect(err.message).toBe(`${F}: renewInterval, renewBefore: both are 0: no certificate would ever be renewed before it expires`);
    expect(parseConfig(F, { renewInterval: '30d', renewBefore: '0' }).renewBefore).toBe(0);
  });

  it('refuses a duration too long to compute dates with, saying the limit', () => {
    const err = refusal({ validity: '400000d' });
    expect(err.message).toBe(`${F}: validity: "400000d" is too long`);
    expect(err.hint).toMatch(/^durations are at most \d+d/);
  });

  it('warns about a renewInterval under a day, only then', () => {
    expect(configWarnings(parseConfig(F, { renewInterval: '12h' }))).toEqual([
      'renewInterval 12h is under a day: every run renews the certificates and restarts the control-plane components that use them (etcd, kube-apiserver, ...) that often',
    ]);
    expect(configWarnings(parseConfig(F, { renewInterval: '1d' }))).toEqual([]);
    expect(configWarnings(parseConfig(F, { renewInterval: 0 }))).toEqual([]);
  });

  it.each([
    ['comments only', '# renewBefore: 90d\n#validity: 365d\n'],
    ['comments with CRLF', '# renewBefore: 90d\r\n\r\n   # x\r\n'],
    ['document markers and blanks', '---\n\n...\n'],
  ])('reads a file with %s as the defaults', (_, text) => {
    const file = join(mkdtempSync(join(tmpdir(), 'kcr-config-')), 'config.yaml');
    writeFileSync(file, text);
    expect(loadConfig(file, true)).toStrictEqual(defaultConfig());
  });
});

