/**
 * YAML for the agent (configuration, kubeconfigs, static pod manifests, the demo tree): js-yaml, the one parser.
 * js-yaml is loaded on first use, so commands that read no YAML never pay for loading it.
 */
import type * as JsYaml from 'js-yaml';

let jsYaml: typeof JsYaml | undefined;
/** js-yaml, loaded on first use. */
export function yamlLibrary(): typeof JsYaml {
  jsYaml ??= require('js-yaml') as typeof JsYaml;
  return jsYaml;
}

/** Parse one YAML document; js-yaml's errors name the file and position (see yamlErrorText). */
export function loadYaml(text: string, filename: string): unknown {
  return yamlLibrary().load(text, { filename });
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
