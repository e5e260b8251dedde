/**
 * Static pod manifests: read one, find its command-line flags, and set the restart annotation. The kubelet hashes
 * the whole pod, annotations included, so changing one annotation restarts the pod. The patch edits the text in
 * place (every other byte, comment and annotation stays) and is checked by re-parsing: the result must deep-equal
 * the original plus the one annotation, or the document is re-serialised from that expected object instead.
 */
import { isDeepStrictEqual } from 'node:util';
import { statSync } from 'node:fs';
import { readBoundedText } from '../host/read.js';
import { yamlExpansionProblem } from '../yaml-guard.js';
import { HostFileError } from '../errors.js';
import { writeFileAtomic } from '../host/atomic.js';
import { dumpYaml, yamlErrorText, yamlLibrary } from '../yaml.js';

type Obj = Record<string, unknown>;

export function parseManifest(text: string, file: string): Obj {
  const bomb = yamlExpansionProblem(text, file);
  if (bomb) throw new HostFileError(file, bomb, 'restore the manifest from a backup');
  let doc: unknown;
  try {
    doc = yamlLibrary().load(text, { filename: file });
  } catch (err) {
    throw new HostFileError(file, `is not valid YAML: ${yamlErrorText(err)}`, 'restore the manifest from a backup');
  }
  if (!doc || typeof doc !== 'object' || (doc as Obj).kind !== 'Pod') {
    throw new HostFileError(file, 'is not a Pod manifest', 'restore the manifest from a backup');
  }
  return doc as Obj;
}

/** The command and args of the pod's first container, as one argv. */
export function manifestArgv(pod: Obj): string[] {
  const spec = pod.spec as Obj | undefined;
  const containers = (spec?.containers as Obj[] | undefined) ?? [];
  const c = containers[0];
  if (!c) return [];
  return [...((c.command as string[] | undefined) ?? []), ...((c.args as string[] | undefined) ?? [])].map(String);
}

/** The value of `--name=value` (or `--name value`) in an argv. */
export function flagValue(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
    if (a === `--${name}`) return argv[i + 1];
  }
  return undefined;
}

function withAnnotation(pod: Obj, key: string, value: string): Obj {
  const copy = structuredClone(pod);
  const metadata = (copy.metadata ??= {}) as Obj;
  const annotations = (metadata.annotations ??= {}) as Obj;
  annotations[key] = value;
  return copy;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function textPatch(text: string, key: string, value: string): string | undefined {
  const lines = text.split('\n');
  const meta = lines.findIndex((l) => /^metadata:\s*$/.test(l));
  if (meta < 0) return undefined;
  let end = meta + 1;
  while (end < lines.length && (lines[end] === '' || indentOf(lines[end] as string) > 0 || (lines[end] as string).startsWith('#'))) end++;
  const child = lines.slice(meta + 1, end).find((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (!child) return undefined;
  const pad = ' '.repeat(indentOf(child));
  const entry = (p: string): string => `${p}${key}: ${JSON.stringify(value)}`;
  const annIdx = lines.findIndex((l, i) => i > meta && i < end && l === `${pad}annotations:`);
  if (annIdx < 0) {
    lines.splice(meta + 1, 0, `${pad}annotations:`, entry(pad + pad));
    return lines.join('\n');
  }
  let annEnd = annIdx + 1;
  while (annEnd < end && (lines[annEnd] === '' || indentOf(lines[annEnd] as string) > pad.length)) annEnd++;
  const first = lines.slice(annIdx + 1, annEnd).find((l) => l.trim() !== '');
  const inner = first ? ' '.repeat(indentOf(first)) : pad + pad;
  const existing = lines.findIndex((l, i) => i > annIdx && i < annEnd && (l.startsWith(`${inner}${key}:`) || l.startsWith(`${inner}"${key}":`)));
  if (existing >= 0) lines[existing] = entry(inner);
  else lines.splice(annIdx + 1, 0, entry(inner));
  return lines.join('\n');
}

/** The manifest text with `key: value` under metadata.annotations, everything else unchanged. */
export function patchRestartAnnotation(text: string, file: string, key: string, value: string): string {
  const pod = parseManifest(text, file);
  const expected = withAnnotation(pod, key, value);
  // Patch LF text and put CRLF back, so a CRLF manifest does not come out with mixed line endings.
  const crlf = text.includes('\r\n');
  const lf = textPatch(crlf ? text.replace(/\r\n/g, '\n') : text, key, value);
  const patched = lf !== undefined && crlf ? lf.replace(/\n/g, '\r\n') : lf;
  if (patched !== undefined) {
    try {
      if (isDeepStrictEqual(yamlLibrary().load(patched), expected)) return patched;
    } catch {
      // fall through to re-serialising
    }
  }
  return dumpYaml(expected);
}

const RFC3339_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z$/;

/**
 * The restart annotation's value: `now` as RFC 3339 to the second, always later than the value already there. Two
 * bounces within one second (a run and a quick `rollback`) must still change the pod's hash, or the kubelet restarts
 * nothing; and a value never repeats an earlier one, so the pod never returns to a hash it had before.
 */
export function restartAnnotationValue(now: Date, previous: string | undefined): string {
  const seconds = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  // Only an RFC 3339 UTC time is ours to follow; anything else a hand or another tool left ("3000", "yes",
  // "Tue Dec 1") is replaced by the time now, which differs from it all the same.
  const prev = previous !== undefined && RFC3339_UTC.test(previous) ? Date.parse(previous) : NaN;
  if (Number.isNaN(prev) || prev < Date.parse(seconds)) return seconds;
  return new Date(Math.max(now.getTime(), prev + 1)).toISOString();
}

function currentAnnotation(pod: Obj, key: string): string | undefined {
  const annotations = (pod.metadata as Obj | undefined)?.annotations as Obj | undefined;
  const v = annotations?.[key];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Set the restart annotation to `now` in the manifest file, atomically (the temporary file is dot-prefixed, which
 * the kubelet ignores). Returns the value written.
 */
export function annotateManifest(file: string, key: string, now: Date): string {
  const text = readBoundedText(file, 'manifest');
  const mode = statSync(file).mode & 0o7777;
  const value = restartAnnotationValue(now, currentAnnotation(parseManifest(text, file), key));
  writeFileAtomic(file, patchRestartAnnotation(text, file, key, value), mode);
  return value;
}
