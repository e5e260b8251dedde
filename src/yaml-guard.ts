/**
 * A cap on YAML alias expansion. An alias bomb (`a: &a [x, x, …]`, `b: &b [*a, *a, …]`, …) is a few hundred bytes
 * that js-yaml parses at once into shared nodes, but anything that then walks the document (copying it, looking up
 * keys, serialising it) visits billions of nodes. js-yaml has no limit option, so documents that use aliases at all
 * are walked once here with a node budget before anything else touches them. Files without a single alias (every
 * kubeconfig kubeadm or kubectl writes) cost one regular-expression test.
 */
import { yamlLibrary } from './yaml.js';

/** More nodes than any kubeconfig, manifest or config file has, expanded. */
export const MAX_YAML_NODES = 100_000;

// An alias token: `*name` where a YAML node may start (after indentation, a flow indicator, `- `, `: ` or `? `).
const ALIAS = /(?:^|[\s,[{])\*[^\s,[\]{}]/m;

/** The number of nodes `doc` has with every alias expanded, counted up to `limit + 1`. */
export function expandedNodeCount(doc: unknown, limit: number): number {
  let count = 0;
  const stack: unknown[] = [doc];
  while (stack.length > 0 && count <= limit) {
    const node = stack.pop();
    count += 1;
    if (Array.isArray(node)) for (const v of node) stack.push(v);
    else if (node !== null && typeof node === 'object' && !(node instanceof Date)) {
      for (const v of Object.values(node as Record<string, unknown>)) stack.push(v);
    }
  }
  return count;
}

/**
 * Why `text` must not be parsed and used (its aliases expand past MAX_YAML_NODES), or undefined when it is safe.
 * Syntax errors are left to the parser that reads the file for real, which words them.
 */
export function yamlExpansionProblem(text: string, file: string, limit = MAX_YAML_NODES): string | undefined {
  if (!ALIAS.test(text)) return undefined;
  let docs: unknown[];
  try {
    docs = yamlLibrary().loadAll(text, null, { filename: file });
  } catch {
    return undefined;
  }
  if (expandedNodeCount(docs, limit) > limit) {
    return `its YAML aliases expand to more than ${limit} nodes (an alias bomb); refusing to read it`;
  }
  return undefined;
}
