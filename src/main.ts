/**
 * kube-cert-renewer: the CLI entry point. Parses the command line, runs one command, and is the only place that
 * turns errors into exit codes: 0 ok, 1 something failed or needs attention, 2 usage or configuration error.
 */
import { parseArgs } from 'node:util';
import { CERTIFICATE_AUTHORITIES, LEAF_NAMES, LEAVES } from './catalog.js';
import { type Context, type GlobalOptions, createContext } from './cli/context.js';
import type { LogFormat } from './config/config.js';
import { RenewerError, UsageError } from './errors.js';
import { resolveFormat } from './ops/log.js';

declare const __VERSION__: string;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev';

interface CommandSpec {
  summary: string;
  usage: string;
  /** The command takes positional arguments (entry names, a run id); the others refuse any. */
  positionals?: boolean;
  options?: Record<string, { type: 'string' | 'boolean'; short?: string; description: string }>;
  /** More text for `COMMAND --help`. */
  details?: string;
  run: (ctx: Context, positionals: string[], values: Record<string, unknown>) => Promise<number>;
}

const COMMANDS: Record<string, CommandSpec> = {
  status: {
    summary: 'show every certificate, its expiry, and whether renewal is due and why',
    usage: 'status [-o table|wide|json]',
    run: async (ctx) => (await import('./commands/status.js')).statusCommand(ctx),
  },
  plan: {
    summary: 'show what `run` would renew and restart now; changes nothing',
    usage: 'plan [-o table|wide|json]',
    run: async (ctx) => (await import('./commands/plan.js')).planCommand(ctx),
  },
  run: {
    summary: 'renew what is due, restart and verify what uses it, roll back on failure (the timer runs this)',
    usage: 'run',
    run: async (ctx) => (await import('./commands/run.js')).renewalRun(ctx, { command: 'run', named: new Set() }),
  },
  renew: {
    summary: 'renew the named entries now, whatever the policy, then restart and verify',
    usage: 'renew NAME... | --all',
    positionals: true,
    options: { all: { type: 'boolean', description: 'renew every entry this node can renew' } },
    details: `Entries:\n${LEAVES.map((e) => `  ${e.name.padEnd(Math.max(...LEAF_NAMES.map((n) => n.length)))}  ${e.description}`).join('\n')}\n`,
    run: async (ctx, positionals, values) => {
      const all = Boolean(values.all);
      if (all === positionals.length > 0) {
        throw new UsageError(all ? 'give entry names or --all, not both' : 'name the entries to renew, or pass --all', `entries: ${LEAF_NAMES.join(', ')}`);
      }
      const unknown = positionals.filter((p) => !LEAF_NAMES.includes(p));
      if (unknown.length) {
        const isCa = unknown.some((u) => CERTIFICATE_AUTHORITIES.some((c) => c.name === u));
        throw new UsageError(
          `${isCa ? 'CAs cannot be renewed here' : 'unknown entry'}: ${unknown.join(', ')}`,
          `entries: ${LEAF_NAMES.join(', ')}${isCa ? ' (CA rotation is a separate, deliberate operation)' : ''}`,
        );
      }
      const { renewalRun } = await import('./commands/run.js');
      return renewalRun(ctx, { command: 'renew', named: new Set(positionals), all });
    },
  },
  rollback: {
    summary: 'restore the last (or the named) run\'s backups and restart what it restarted',
    usage: 'rollback [RUN-ID] [--force]',
    positionals: true,
    options: { force: { type: 'boolean', description: 'restore even expired certificates or over later runs' } },
    run: async (ctx, positionals, values) => {
      if (positionals.length > 1) throw new UsageError('rollback takes at most one run id');
      return (await import('./commands/rollback.js')).rollbackCommand(ctx, positionals[0], Boolean(values.force));
    },
  },
  history: {
    summary: 'list the runs on record: what each renewed and restarted, how it ended, whether it was rolled back',
    usage: 'history [-o table|json]',
    run: async (ctx) => (await import('./commands/history.js')).historyCommand(ctx),
  },
  demo: {
    summary: 'build a kubeadm host tree with due certificates in a temp dir, show status, run, show status',
    usage: 'demo [--keep]',
    options: { keep: { type: 'boolean', description: 'keep the demo tree instead of removing it' } },
    run: async (ctx, _p, values) => (await import('./commands/demo.js')).demoCommand(ctx, Boolean(values.keep)),
  },
};

const GLOBAL_HELP = `Global options:
  --root DIR          treat DIR as the host's filesystem root (default /)
  --config FILE       configuration file (default <root>/etc/kube-cert-renewer/config.yaml)
  -o, --output FMT    table (default), wide (every column) or json
  --log-format FMT    auto (default), journal, text or json
  -v, --verbose       debug logging
  -h, --help          this help
  --version           print the version`;

function help(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  const cmds = Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`).join('\n');
  return `kube-cert-renewer ${VERSION}: keeps a kubeadm control-plane node's certificates from expiring.

Usage: kube-cert-renewer [global options] COMMAND [options]

Commands:
${cmds}

${GLOBAL_HELP}

Entries: ${LEAVES.map((e) => e.name).join(', ')}
Configuration, the timer and the JSON format are described in the README and kube-cert-renewer(8).
`;
}

function commandHelp(name: string, spec: CommandSpec): string {
  const opts = Object.entries(spec.options ?? {})
    .map(([k, o]) => `  ${o.short ? `-${o.short}, ` : ''}--${k}${o.type === 'string' ? ' VALUE' : ''}  ${o.description}`)
    .join('\n');
  const details = spec.details ? `\n${spec.details}` : '';
  return `Usage: kube-cert-renewer [global options] ${spec.usage}\n\n${spec.summary}\n${opts ? `\nOptions:\n${opts}\n` : ''}${details}\n${GLOBAL_HELP}\n`;
}

/** Error text for stderr; in journal format every line carries its syslog priority. */
function errorLines(text: string, priority: number, format: LogFormat): string {
  if (resolveFormat(format) !== 'journal') return text;
  return `${text.trimEnd().split('\n').map((l) => `<${priority}>${l}`).join('\n')}\n`;
}

/** Levenshtein distance, for "did you mean" on a mistyped command or option. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length] as number;
}

/** The closest candidate to a mistyped word, when it is close enough to be what was meant. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = c.startsWith(word) || word.startsWith(c) ? Math.abs(c.length - word.length) * 0.5 : editDistance(word, c);
    if (!best || d < best.d) best = { c, d };
  }
  return best && best.d <= Math.max(2, Math.floor(word.length / 3)) ? best.c : undefined;
}

const GLOBAL_OPTIONS = {
  root: { type: 'string', default: '/' },
  config: { type: 'string' },
  output: { type: 'string', short: 'o', default: 'table' },
  'log-format': { type: 'string' },
  verbose: { type: 'boolean', short: 'v', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
} as const;

/** parseArgs's own message, plus the closest valid option when an unknown one was given. */
function optionErrorText(e: Error, spec: CommandSpec | undefined): string {
  const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(e.message)?.[1];
  if (!unknown) return e.message;
  const known = [...Object.keys(GLOBAL_OPTIONS), ...Object.keys(spec?.options ?? {})].map((o) => `--${o}`);
  const guess = closest(unknown.replace(/=.*$/, ''), known);
  return `unknown option ${unknown}${guess ? `; did you mean ${guess}?` : ''}`;
}

/** The global options, checked: an unknown output or log format is a usage error. */
function globalOptions(v: Record<string, unknown>): GlobalOptions {
  const output = String(v.output);
  if (output !== 'table' && output !== 'json' && output !== 'wide') {
    const guess = closest(output, ['table', 'wide', 'json']);
    throw new UsageError(`--output ${JSON.stringify(output)}: use table, wide or json${guess ? ` (did you mean ${guess}?)` : ''}`);
  }
  const logFormat = v['log-format'] as string | undefined;
  if (logFormat !== undefined && !['auto', 'journal', 'text', 'json'].includes(logFormat)) {
    throw new UsageError(`--log-format ${JSON.stringify(logFormat)}: use auto, journal, text or json`);
  }
  return {
    root: String(v.root),
    output,
    verbose: Boolean(v.verbose),
    ...(typeof v.config === 'string' ? { config: v.config } : {}),
    ...(logFormat ? { logFormat: logFormat as GlobalOptions['logFormat'] & string } : {}),
  };
}

/** Help, or the unknown-command error (with the closest command) when the line names no command. */
function noCommand(unknown: string | undefined): string {
  if (!unknown) return help();
  const guess = closest(unknown, Object.keys(COMMANDS));
  return `kube-cert-renewer: unknown command ${JSON.stringify(unknown)}${guess ? `; did you mean ${JSON.stringify(guess)}?` : ''}\n`
    + 'Run \'kube-cert-renewer --help\' for usage.\n';
}

export async function main(argv: string[], out = (s: string) => process.stdout.write(s), err = (s: string) => process.stderr.write(s)): Promise<number> {
  const commandIndex = argv.findIndex((a) => COMMANDS[a] !== undefined);
  const name = commandIndex >= 0 ? (argv[commandIndex] as string) : undefined;
  const spec = name ? COMMANDS[name] : undefined;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { ...GLOBAL_OPTIONS, ...(spec?.options ?? {}) },
    });
  } catch (e) {
    err(errorLines(`kube-cert-renewer: ${optionErrorText(e as Error, spec)}\nRun 'kube-cert-renewer --help' for usage.\n`, 3, 'auto'));
    return 2;
  }
  const v = parsed.values as Record<string, unknown>;
  if (v.version) {
    out(`kube-cert-renewer ${VERSION}\n`);
    return 0;
  }
  if (v.help || !spec || !name) {
    if (v.help) {
      out(spec && name ? commandHelp(name, spec) : help());
      return 0;
    }
    err(errorLines(noCommand(parsed.positionals[0]), 3, 'auto'));
    return 2;
  }
  const positionals = parsed.positionals.filter((p, i) => !(p === name && i === parsed.positionals.indexOf(name)));
  if (!spec.positionals && positionals.length > 0) {
    err(errorLines(`kube-cert-renewer: ${name} takes no arguments (got ${positionals.map((p) => JSON.stringify(p)).join(' ')})\n`
      + `  → usage: kube-cert-renewer [global options] ${spec.usage}\n`, 3, 'auto'));
    return 2;
  }
  // The log format decides how a command-ending error is written: in journal format every line needs a priority.
  let logFormatUsed: LogFormat = 'auto';
  try {
    const options = globalOptions(v);
    if (options.logFormat) logFormatUsed = options.logFormat;
    const ctx = createContext(options, out, err);
    logFormatUsed = ctx.config.log.format;
    return await spec.run(ctx, positionals, v);
  } catch (e) {
    const write = (text: string, priority: number): void => {
      err(errorLines(text, priority, logFormatUsed));
    };
    if (e instanceof RenewerError) {
      write(`kube-cert-renewer: ${e.describe()}\n`, 3);
      return e.exitCode;
    }
    write(`kube-cert-renewer: unexpected error: ${(e as Error).stack ?? String(e)}\n`, 2);
    return 1;
  }
}
