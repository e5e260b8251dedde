/**
 * A candidate for src/inventory/kubeconfig-yaml.ts, measured by `npm run bench` (which builds the tree with this file
 * in that one's place): the long base64 values (certificates and keys) lifted out before js-yaml sees the text and
 * put back afterwards. They are plain scalars either way, and js-yaml's scanner, cold at start-up, reads them a
 * character at a time. It would be adopted only with a gain of 15% or more on `status`.
 */
import { loadYaml } from '../yaml.js';

// A `…-data:` value alone on its line, of base64 characters only: a plain YAML scalar, a string unless all digits.
const BASE64_VALUE = /^(\s*(?:- )?[A-Za-z-]+-data:[ \t]+)([A-Za-z0-9+/]{64,}={0,2})[ \t]*$/gm;
const PLACEHOLDER = /^kcr-base64-(\d+)$/;

export function parseKubeconfigText(text: string, file: string): unknown {
  const values: string[] = [];
  const light = text.replace(BASE64_VALUE, (line: string, prefix: string, value: string) => {
    if (/^[0-9]+$/.test(value)) return line; // js-yaml reads digits as a number: leave that to it
    values.push(value);
    return `${prefix}kcr-base64-${values.length - 1}`;
  });
  const doc = loadYaml(light, file);
  if (values.length === 0) return doc;
  const restore = (node: unknown): unknown => {
    if (typeof node === 'string') {
      const m = PLACEHOLDER.exec(node);
      return m ? values[Number(m[1])] : node;
    }
    if (Array.isArray(node)) return node.map(restore);
    if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) (node as Record<string, unknown>)[k] = restore(v);
    }
    return node;
  };
  return restore(doc);
}
