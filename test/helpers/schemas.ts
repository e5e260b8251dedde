/**
 * The JSON contracts (schemas/*.schema.json, shipped in the packages) checked against real output. Every test that
 * reads `status -o json` or `plan -o json` through test/helpers/cli.ts validates it here first.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';

const SCHEMAS = join(__dirname, '..', '..', 'schemas');
export const SCHEMA_FILES = { status: 'status.schema.json', plan: 'plan.schema.json', history: 'history.schema.json' } as const;
export type SchemaName = keyof typeof SCHEMA_FILES;

const ajv = new Ajv2020({ allErrors: true, strict: true });
const validators = Object.fromEntries(
  Object.entries(SCHEMA_FILES).map(([name, file]) => [name, ajv.compile(JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')) as object)]),
) as Record<SchemaName, ReturnType<typeof ajv.compile>>;

/** Throws, listing every violation, unless `doc` satisfies the named schema. */
export function assertMatchesSchema(name: SchemaName, doc: unknown): void {
  const validate = validators[name];
  if (validate(doc)) return;
  const errors = (validate.errors ?? []).map((e) => `  ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  throw new Error(`output does not match schemas/${SCHEMA_FILES[name]}:\n${errors.join('\n')}`);
}

/** Whether `doc` satisfies the schema (for negative controls). */
export function matchesSchema(name: SchemaName, doc: unknown): boolean {
  return validators[name](doc) === true;
}
