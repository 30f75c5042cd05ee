/**
 * JSON Schema (draft-07) validation with messages that name the field, shared by the plugin
 * loader, the storage resolver and the configuration loader.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isSecretKey, redactString } from '../logging/redact.ts';
import { joinFieldPath, pointerToFieldPath } from './field-path.ts';

/** One thing wrong with a value, at a dotted path such as `plugins[2].config.bucket`. */
export interface SchemaProblem {
  path: string;
  message: string;
}

/** What {@link CompiledSchema} returns. */
export interface SchemaCheck<T = unknown> {
  /** A copy of the input with the schema's `default`s filled in (the input is never modified). */
  value: T;
  /** Empty when the value is valid. */
  problems: SchemaProblem[];
}

/** A compiled schema: checks a value found at `base` (used to prefix the problem paths). */
export type CompiledSchema = <T = unknown>(value: unknown, base: string) => SchemaCheck<T>;

/** Compiles JSON Schemas, caching by schema object. */
export interface SchemaValidator {
  /** Throws a plain `Error` with Ajv's reason when `schema` is not a valid JSON Schema. */
  compile(schema: object): CompiledSchema;
}

/** Makes a validator. Unknown keywords and formats are ignored: plugin authors may annotate freely. */
export function createSchemaValidator(): SchemaValidator {
  const ajv = new Ajv({
    allErrors: true,
    verbose: true, // gives parentSchema, to list the known fields of an object
    useDefaults: true,
    strict: false,
    validateFormats: false,
    logger: false,
  });
  const cache = new WeakMap<object, CompiledSchema>();
  return {
    compile(schema) {
      let compiled = cache.get(schema);
      if (compiled === undefined) {
        const validate = ajv.compile(schema);
        compiled = (value, base) => check(validate, value, base);
        cache.set(schema, compiled);
      }
      return compiled;
    },
  };
}

function check<T>(validate: ValidateFunction, input: unknown, base: string): SchemaCheck<T> {
  const value = input === undefined ? undefined : structuredClone(input);
  if (validate(value)) return { value: value as T, problems: [] };
  const seen = new Set<string>();
  const problems: SchemaProblem[] = [];
  for (const error of validate.errors ?? []) {
    const problem = describe(error, base);
    const id = `${problem.path}\0${problem.message}`;
    if (!seen.has(id)) {
      seen.add(id);
      problems.push(problem);
    }
  }
  return { value: value as T, problems };
}

function describe(error: ErrorObject, base: string): SchemaProblem {
  const path = pointerToFieldPath(base, error.instancePath);
  const params = error.params as Record<string, unknown>;
  // Never echo the value of a secret-looking field: these messages end up in logs.
  const secret = isSecretKey(error.instancePath.slice(error.instancePath.lastIndexOf('/') + 1));
  const shown = (text: string): string => (secret ? '' : `, not ${redactString(text.length > 60 ? `${text.slice(0, 60)}…` : text)}`);
  switch (error.keyword) {
    case 'required':
      return { path: joinFieldPath(path, String(params.missingProperty)), message: 'is required' };
    case 'additionalProperties': {
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const hint = known.length > 0 ? ` (known fields: ${known.join(', ')})` : '';
      return { path: joinFieldPath(path, String(params.additionalProperty)), message: `is not a known field${hint}` };
    }
    case 'enum':
      return { path, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}${shown(JSON.stringify(error.data))}` };
    case 'type':
      return { path, message: `must be ${article(String(params.type))}${shown(kindOf(error.data))}` };
    case 'const':
      return { path, message: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'pattern':
      return { path, message: `must match the pattern ${String(params.pattern)}${shown(JSON.stringify(error.data))}` };
    default:
      return { path, message: error.message ?? `fails the ${error.keyword} rule` };
  }
}

function article(type: string): string {
  // Ajv reports unions as "string,number".
  return type
    .split(',')
    .map((t) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`))
    .join(' or ');
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value === 'number' ? 'the number' : `the ${typeof value}`} ${String(value)}`;
}

/** `a.b: must be a string; c: is required`: problems as one line. */
export function describeProblems(problems: readonly SchemaProblem[]): string {
  return problems.map((p) => `${p.path === '' ? '(top level)' : p.path}: ${p.message}`).join('; ');
}
