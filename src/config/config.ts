/**
 * The configuration: /etc/kube-cert-renewer/config.yaml. Validation is strict: an unknown key, a wrong type or a bad
 * duration is a ConfigError naming the key and the value; nothing is written before the config is valid.
 */
import { ConfigError } from '../errors.js';
import { RefusedFileError, readBoundedText } from '../host/read.js';
import { durationTooLong, formatDuration, parseDuration } from './duration.js';
import { yamlExpansionProblem } from '../yaml-guard.js';
import { loadYaml, yamlErrorText } from '../yaml.js';

export const CONFIG_API_VERSION = 'kube-cert-renewer.io/v1alpha1';
export const CONFIG_KIND = 'RenewerConfiguration';
export const DEFAULT_CONFIG_PATH = '/etc/kube-cert-renewer/config.yaml';

export type Mode = 'renew' | 'monitor';
export type LogFormat = 'auto' | 'journal' | 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Config {
  /** Renew certificates issued longer ago than this (ms); 0 disables the interval. */
  renewInterval: number;
  /** Renew when less than this remains (ms). */
  renewBefore: number;
  /** Lifetime of renewed certificates (ms). */
  validity: number;
  mode: Mode;
  restart: RestartConfig;
  hooks: { postRenew: string[]; timeout: number };
  metrics: { textfileDir: string };
  /** Host paths, absolute, before --root is applied. */
  paths: { kubernetes: string; pki: string; manifests: string; state: string };
  backups: { keep: number };
  log: { format: LogFormat; level: LogLevel };
  /** While a kubeadm process runs on the node (upgrade, certs renew, init phase), wait this long (ms), then defer. */
  kubeadm: { wait: number };
}

export interface RestartConfig {
  enabled: boolean;
  annotation: string;
  verify: boolean;
  verifyTimeout: number;
  /** auto: skip the restart of a component that reloads the renewed files by itself (proved); always: restart. */
  mode: 'auto' | 'always';
  /** How long a self-reload may take to show on fresh TLS handshakes before the restart path (ms). */
  reloadBudget: { etcd: number; 'kube-apiserver': number };
  /** Restart the local etcd member only while the others keep a quorum without it. */
  quorumGuard: boolean;
  quorumWait: number;
  /** Take turns across the control plane (a lock in etcd) for restarts of etcd and kube-apiserver. */
  clusterLock: boolean;
  lockWait: number;
  lockTTL: number;
}

const DAY = 86_400_000;

export function defaultConfig(): Config {
  return {
    renewInterval: 0,
    renewBefore: 90 * DAY,
    validity: 365 * DAY,
    mode: 'renew',
    restart: {
      enabled: true, annotation: 'kube-cert-renewer/restartedAt', verify: true, verifyTimeout: 5 * 60_000,
      mode: 'auto', reloadBudget: { etcd: 10_000, 'kube-apiserver': 75_000 },
      quorumGuard: true, quorumWait: 5 * 60_000, clusterLock: true, lockWait: 30 * 60_000, lockTTL: 60_000,
    },
    hooks: { postRenew: [], timeout: 5 * 60_000 },
    metrics: { textfileDir: '' },
    paths: {
      kubernetes: '/etc/kubernetes',
      pki: '/etc/kubernetes/pki',
      manifests: '/etc/kubernetes/manifests',
      state: '/var/lib/kube-cert-renewer',
    },
    backups: { keep: 10 },
    log: { format: 'auto', level: 'info' },
    kubeadm: { wait: 5 * 60_000 },
  };
}

type Field =
  | { type: 'duration'; min?: number }
  | { type: 'boolean' }
  | { type: 'integer'; min: number }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'string'; pattern?: RegExp; patternHint?: string; absolutePath?: boolean; allowEmpty?: boolean }
  | { type: 'strings' }
  | { type: 'section'; fields: Record<string, Field> };

// A Kubernetes annotation key: optional DNS-subdomain prefix, then a name of up to 63 characters.
const ANNOTATION_KEY = /^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

const SCHEMA: Record<string, Field> = {
  apiVersion: { type: 'enum', values: [CONFIG_API_VERSION] },
  kind: { type: 'enum', values: [CONFIG_KIND] },
  renewInterval: { type: 'duration' },
  renewBefore: { type: 'duration' },
  validity: { type: 'duration', min: 3_600_000 },
  mode: { type: 'enum', values: ['renew', 'monitor'] },
  restart: {
    type: 'section',
    fields: {
      enabled: { type: 'boolean' },
      annotation: { type: 'string', pattern: ANNOTATION_KEY, patternHint: 'a Kubernetes annotation key such as example.com/restartedAt' },
      verify: { type: 'boolean' },
      verifyTimeout: { type: 'duration', min: 1_000 },
      mode: { type: 'enum', values: ['auto', 'always'] },
      reloadBudget: { type: 'section', fields: { etcd: { type: 'duration', min: 1_000 }, 'kube-apiserver': { type: 'duration', min: 1_000 } } },
      quorumGuard: { type: 'boolean' },
      quorumWait: { type: 'duration' },
      clusterLock: { type: 'boolean' },
      lockWait: { type: 'duration' },
      lockTTL: { type: 'duration', min: 5_000 },
    },
  },
  hooks: { type: 'section', fields: { postRenew: { type: 'strings' }, timeout: { type: 'duration', min: 1_000 } } },
  metrics: { type: 'section', fields: { textfileDir: { type: 'string', absolutePath: true, allowEmpty: true } } },
  paths: {
    type: 'section',
    fields: {
      kubernetes: { type: 'string', absolutePath: true },
      pki: { type: 'string', absolutePath: true },
      manifests: { type: 'string', absolutePath: true },
      state: { type: 'string', absolutePath: true },
    },
  },
  backups: { type: 'section', fields: { keep: { type: 'integer', min: 1 } } },
  log: {
    type: 'section',
    fields: {
      format: { type: 'enum', values: ['auto', 'journal', 'text', 'json'] },
      level: { type: 'enum', values: ['debug', 'info', 'warn', 'error'] },
    },
  },
  kubeadm: { type: 'section', fields: { wait: { type: 'duration' } } },
};

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

type Fail = (msg: string, hint?: string) => never;

function durationValue(value: unknown, min: number | undefined, fail: Fail): number {
  const ms = typeof value === 'string' ? parseDuration(value) : value === 0 ? 0 : undefined;
  const tooLong = typeof value === 'string' ? durationTooLong(value) : undefined;
  if (tooLong) fail(`${show(value)} is too long`, tooLong);
  if (ms === undefined) return fail(`${show(value)} is not a duration`, 'write it like 30d, 720h, 90m or 1h30m (0 disables)');
  if (min !== undefined && ms < min) fail(`${show(value)} is too short`);
  return ms;
}

function stringValue(value: unknown, field: Extract<Field, { type: 'string' }>, fail: Fail): string {
  if (typeof value !== 'string') return fail(`${show(value)} is not a string`);
  if (value === '' && field.allowEmpty) return value;
  if (value === '') fail('must not be empty');
  if (field.absolutePath && !value.startsWith('/')) fail(`${show(value)} is not an absolute path`);
  if (field.pattern && !field.pattern.test(value)) fail(`${show(value)} is not valid`, field.patternHint);
  return value;
}

function coerce(file: string, key: string, field: Field, value: unknown, target: Record<string, unknown>, name: string): void {
  const fail = (msg: string, hint?: string): never => {
    throw new ConfigError(file, key, msg, hint);
  };
  switch (field.type) {
    case 'duration':
      target[name] = durationValue(value, field.min, fail);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail(`${show(value)} is not true or false`);
      target[name] = value;
      return;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < field.min) {
        fail(`${show(value)} is not a whole number of at least ${field.min}`);
      }
      target[name] = value;
      return;
    case 'enum':
      if (typeof value !== 'string' || !field.values.includes(value)) {
        fail(`${show(value)} is not one of ${field.values.join(', ')}`);
      }
      target[name] = value;
      return;
    case 'string':
      target[name] = stringValue(value, field, fail);
      return;
    case 'strings':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
        fail(`${show(value)} is not a list of commands`, 'write a YAML list of shell command strings');
      }
      target[name] = [...(value as string[])];
      return;
    case 'section': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`${show(value)} is not a mapping`);
      const section = target[name] as Record<string, unknown>;
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const sub = field.fields[k];
        const subKey = `${key}.${k}`;
        if (!sub) {
          throw new ConfigError(file, subKey, 'unknown key', `known keys under ${key}: ${Object.keys(field.fields).join(', ')}`);
        }
        coerce(file, subKey, sub, v, section, k);
      }
      return;
    }
  }
}

/** Validate parsed YAML into a Config; `file` only names the source in errors. */
export function parseConfig(file: string, doc: unknown): Config {
  const config = defaultConfig();
  if (doc === null || doc === undefined) return config;
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(file, undefined, 'is not a YAML mapping', 'see the configuration reference in the README');
  }
  const target = config as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    const field = SCHEMA[k];
    if (!field) {
      throw new ConfigError(file, k, 'unknown key', `known keys: ${Object.keys(SCHEMA).join(', ')}`);
    }
    coerce(file, k, field, v, target, k);
  }
  delete target.apiVersion;
  delete target.kind;
  if (config.renewInterval === 0 && config.renewBefore === 0) {
    throw new ConfigError(
      file,
      'renewInterval, renewBefore',
      'both are 0: no certificate would ever be renewed before it expires',
      'set renewBefore (e.g. 90d: renew when less than that remains) or renewInterval (e.g. 30d), or both',
    );
  }
  if (config.renewBefore >= config.validity) {
    throw new ConfigError(
      file,
      'renewBefore',
      `must be shorter than validity (renewBefore ${formatDuration(config.renewBefore)} ≥ validity ${formatDuration(config.validity)}): every run would renew every certificate again`,
      'make validity longer than renewBefore (defaults: validity 365d, renewBefore 90d)',
    );
  }
  return config;
}

/** Settings that are valid but worth a warning each time the config is used. */
export function configWarnings(config: Config): string[] {
  const out: string[] = [];
  if (config.renewInterval > 0 && config.renewInterval < DAY) {
    out.push(`renewInterval ${formatDuration(config.renewInterval)} is under a day: every run renews the certificates and `
      + 'restarts the control-plane components that use them (etcd, kube-apiserver, ...) that often');
  }
  return out;
}

/**
 * Load the config. A missing default file means defaults; a missing explicit file is an error.
 * @param file host path already resolved under --root
 */
export function loadConfig(file: string, explicit: boolean): Config {
  let text: string;
  try {
    text = readBoundedText(file, 'config');
  } catch (err) {
    if (err instanceof RefusedFileError) throw new ConfigError(file, undefined, err.detail, 'point --config at the configuration file');
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return defaultConfig();
    if (code === 'ENOENT') throw new ConfigError(file, undefined, 'does not exist', 'check the --config path');
    throw new ConfigError(file, undefined, `cannot be read (${code ?? String(err)})`);
  }
  // Empty, or only comments (the packaged file lists every key commented out): the defaults, like a missing file.
  if (text.split(/\r?\n/).every((l) => /^\s*(#.*)?$/.test(l) || /^(---|\.\.\.)\s*$/.test(l))) return defaultConfig();
  const bomb = yamlExpansionProblem(text, file);
  if (bomb) throw new ConfigError(file, undefined, bomb, 'write the configuration without YAML aliases');
  let doc: unknown;
  try {
    doc = loadYaml(text, file);
  } catch (err) {
    throw new ConfigError(file, undefined, `is not valid YAML: ${yamlErrorText(err)}`);
  }
  return parseConfig(file, doc);
}
