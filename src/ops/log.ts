/**
 * Logging: pino, one event per line on stderr. Three renderings of the same events:
 * - journal (auto under systemd, when JOURNAL_STREAM names our stderr): `<N>` syslog priority prefix, then readable
 *   text, so `journalctl -p warning` filters and lines read well;
 * - text (a terminal): time, level, message, key=value fields;
 * - json: pino's own lines, for log shippers.
 * Key material never reaches a log: nothing passes it, and known key-bearing fields are removed by redaction.
 */
import { fstatSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';
import type { LogFormat, LogLevel } from '../config/config.js';

export type { Logger };

const PRIORITY: Record<number, number> = { 10: 7, 20: 7, 30: 6, 40: 4, 50: 3, 60: 2 };
const LEVEL_NAME: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** True when stderr is the journal stream systemd handed us (JOURNAL_STREAM=<dev>:<ino>). */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env, fd = 2): boolean {
  const stream = env.JOURNAL_STREAM;
  if (!stream) return false;
  const [dev, ino] = stream.split(':');
  try {
    const st = fstatSync(fd);
    return String(st.dev) === dev && String(st.ino) === ino;
  } catch {
    return false;
  }
}

function fieldText(value: unknown): string {
  const scalars = Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number');
  const s = typeof value === 'string' ? value : scalars ? (value as unknown[]).join(',') : JSON.stringify(value);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

/** Render one pino JSON line as `<N>message key=value …` or `time LEVEL message key=value …`. */
export function renderLine(json: string, format: 'journal' | 'text'): string {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = typeof event.level === 'number' ? event.level : 30;
  const fields = Object.entries(event)
    .filter(([k, v]) => !OMIT.has(k) && v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}=${fieldText(v)}`)
    .join(' ');
  const body = fields ? `${String(event.msg ?? '')} ${fields}` : String(event.msg ?? '');
  if (format === 'journal') return `<${PRIORITY[level] ?? 6}>${body.replace(/\n/g, ' ')}\n`;
  const time = typeof event.time === 'number' ? new Date(event.time).toISOString() : '';
  return `${time} ${(LEVEL_NAME[level] ?? 'INFO').padEnd(5)} ${body}\n`;
}

class LineWriter {
  constructor(private readonly sink: (text: string) => void, private readonly format: 'journal' | 'text' | 'json') {}
  write(line: string): boolean {
    this.sink(this.format === 'json' ? line : renderLine(line, this.format));
    return true;
  }
}

export function resolveFormat(format: LogFormat, env: NodeJS.ProcessEnv = process.env): 'journal' | 'text' | 'json' {
  if (format !== 'auto') return format;
  return stderrIsJournal(env) ? 'journal' : 'text';
}

type Pino = typeof import('pino').default;

// pino is required on first use, so commands that log nothing (status) never load it.
function loadPino(): Pino {
  return require('pino') as Pino;
}

/** @param options.write where the lines go (the error stream `main` was given); stderr, synchronously, by default. */
export function createLogger(options: { format: LogFormat; level: LogLevel; write?: (text: string) => void }): Logger {
  const format = resolveFormat(options.format);
  const pino = loadPino();
  return pino(
    {
      level: options.level,
      base: undefined,
      timestamp: format === 'journal' ? false : pino.stdTimeFunctions.epochTime,
      redact: {
        paths: ['keyPem', '*.keyPem', 'document', '*.document', 'privateKey', '*.privateKey', 'key', '*.key'],
        remove: true,
      },
    },
    new LineWriter(options.write ?? ((text) => writeSync(2, text)), format),
  );
}
