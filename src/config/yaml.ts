/**
 * YAML for the agent: js-yaml for everything, behind a fast path for the block-style subset that kubeconfigs
 * (client-go's writer) and simple config files use. `status` parses six small YAML files at start-up; js-yaml's
 * character scanner, run cold, costs more there than everything else status does, and loading js-yaml itself
 * costs a few milliseconds more. The fast path either returns exactly what js-yaml would (tested against js-yaml on
 * every kubeconfig variant and the shipped config) or declines, and js-yaml parses the text.
 */
import type * as JsYaml from 'js-yaml';

let jsYaml: typeof JsYaml | undefined;
/** js-yaml, loaded on first use. */
export function yamlLibrary(): typeof JsYaml {
  jsYaml ??= require('js-yaml') as typeof JsYaml;
  return jsYaml;
}

/** Thrown by the fast path when the text leaves the subset: js-yaml takes over. */
class Decline extends Error {}
const decline = (): never => {
  throw new Decline();
};

interface Line {
  indent: number;
  text: string;
}

// Plain scalars the fast path accepts as strings: no indicator first, nothing js-yaml would type otherwise
// (timestamps, .inf/.nan, merge keys, and, to be safe, YAML 1.1's yes/no/on/off), no ': ' or ' #' inside.
const PLAIN = /^[A-Za-z/_][^#\t]*$/;
const TYPED = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|\.inf|\.Inf|\.INF|\.nan|\.NaN|\.NAN|<<)$/;
// The YAML 1.2 core schema's booleans, null and plain decimal integers, as js-yaml resolves them.
const CORE: Record<string, unknown> = {
  true: true, True: true, TRUE: true, false: false, False: false, FALSE: false, null: null, Null: null, NULL: null, '~': null,
};
const DECIMAL = /^(?:0|-?[1-9][0-9]{0,14})$/;
const KEY = /^([A-Za-z_][A-Za-z0-9_./-]*):(?: (.*))?$/;

function scalar(text: string): unknown {
  if (Object.prototype.hasOwnProperty.call(CORE, text)) return CORE[text];
  if (DECIMAL.test(text)) return Number(text);
  if (text === '{}') return {};
  if (text === '[]') return [];
  if (text.startsWith('"')) {
    if (!text.endsWith('"') || text.length < 2 || /\\[^"\\/bfnrt]|\\u/.test(text)) decline();
    return JSON.parse(text) as string;
  }
  if (text.startsWith("'")) {
    const inner = text.slice(1, -1);
    if (!text.endsWith("'") || text.length < 2 || /(^|[^'])'([^']|$)/.test(inner)) decline();
    return inner.replace(/''/g, "'");
  }
  if (!PLAIN.test(text) || TYPED.test(text) || text.includes(': ') || text.endsWith(':') || text !== text.trimEnd()) decline();
  return text;
}

function parseBlock(lines: Line[], at: { i: number }, indent: number): unknown {
  const first = lines[at.i];
  if (!first || first.indent !== indent) decline();
  return (first as Line).text.startsWith('- ') || (first as Line).text === '-'
    ? parseSequence(lines, at, indent)
    : parseMapping(lines, at, indent);
}

function valueAfterKey(lines: Line[], at: { i: number }, indent: number, rest: string | undefined): unknown {
  if (rest !== undefined && rest !== '') return scalar(rest);
  const next = lines[at.i];
  // `key:` then a nested block: deeper, or a sequence at the same indentation (client-go writes `users:\n- name:`).
  if (next && (next.indent > indent || (next.indent === indent && next.text.startsWith('- ')))) {
    return parseBlock(lines, at, next.indent);
  }
  return decline(); // an empty value is null in YAML: leave that to js-yaml
}

function parseMapping(lines: Line[], at: { i: number }, indent: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  while (at.i < lines.length) {
    const line = lines[at.i] as Line;
    if (line.indent < indent) break;
    if (line.indent > indent || line.text.startsWith('- ')) decline();
    const m = KEY.exec(line.text);
    if (!m) decline();
    const key = (m as RegExpExecArray)[1] as string;
    if (Object.prototype.hasOwnProperty.call(out, key)) decline();
    at.i++;
    out[key] = valueAfterKey(lines, at, indent, (m as RegExpExecArray)[2]);
  }
  return out;
}

function parseSequence(lines: Line[], at: { i: number }, indent: number): unknown[] {
  const out: unknown[] = [];
  while (at.i < lines.length) {
    const line = lines[at.i] as Line;
    if (line.indent < indent) break;
    if (line.indent > indent || !line.text.startsWith('- ')) {
      if (line.indent === indent && !line.text.startsWith('- ')) break; // the parent mapping continues
      decline();
    }
    const item = line.text.slice(2);
    if (KEY.test(item)) {
      // `- key: value` opens a mapping whose keys sit two columns further in.
      lines[at.i] = { indent: indent + 2, text: item };
      out.push(parseMapping(lines, at, indent + 2));
    } else {
      out.push(scalar(item));
      at.i++;
    }
  }
  return out;
}

/** The fast path: the parsed document, or undefined when the text is outside the subset. */
export function parseYamlSubset(text: string): unknown {
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const body = line.trimStart();
    if (body === '' || body.startsWith('#')) continue;
    if (line.includes('\t') || body.startsWith('---') || body.startsWith('...') || body.startsWith('%')) return undefined;
    lines.push({ indent: line.length - body.length, text: body.trimEnd() });
  }
  if (lines.length === 0) return undefined;
  try {
    const at = { i: 0 };
    const doc = parseBlock(lines, at, lines[0]?.indent ?? 0);
    return at.i === lines.length && lines[0]?.indent === 0 ? doc : undefined;
  } catch (err) {
    if (err instanceof Decline) return undefined;
    throw err;
  }
}

/** Parse YAML: the fast path when it applies, js-yaml otherwise (whose errors name the file and position). */
export function loadYaml(text: string, filename: string): unknown {
  const fast = parseYamlSubset(text);
  return fast !== undefined ? fast : yamlLibrary().load(text, { filename });
}

export function dumpYaml(doc: unknown): string {
  return yamlLibrary().dump(doc, { lineWidth: -1, noRefs: true });
}

/** A js-yaml error as one line: `deficient indentation at line 4, column 1`. */
export function yamlErrorText(err: unknown): string {
  const e = err as { name?: string; reason?: string; mark?: { line?: number; column?: number } };
  if (e && e.name === 'YAMLException' && e.reason) {
    const at = e.mark?.line !== undefined ? ` at line ${e.mark.line + 1}, column ${(e.mark.column ?? 0) + 1}` : '';
    return `${e.reason}${at}`;
  }
  return err instanceof Error ? err.message : String(err);
}
