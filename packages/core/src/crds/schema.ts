/**
 * A small builder for Kubernetes structural OpenAPI v3 schemas that also carries the
 * TypeScript type of the values each schema accepts. The CRD YAML and the types the operator
 * and server use are both derived from the same builder calls, so they cannot drift apart.
 *
 * Every builder takes a description first: `kubectl explain` shows it, and the structural
 * check in the tests insists on one at every level.
 */

/** A CEL rule (`x-kubernetes-validations` entry); the API server reports `message` on failure. */
export interface ValidationRule {
  rule: string;
  message: string;
  /** Where the error points, relative to the node the rule sits on (e.g. `.providerConfigs`). */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** The subset of `JSONSchemaProps` (apiextensions.k8s.io/v1) these builders emit. */
export interface JsonSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  enum?: readonly (string | number)[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchemaProps;
  properties?: Record<string, JsonSchemaProps>;
  required?: readonly string[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: readonly string[];
  'x-kubernetes-validations'?: readonly ValidationRule[];
}

declare const valueType: unique symbol;

/** A schema node plus (at the type level only) the TypeScript type of the values it accepts. */
export interface Schema<T> {
  readonly json: JsonSchemaProps;
  /** Phantom member: never present at run time. */
  readonly [valueType]?: () => T;
}

/** The TypeScript type of the values a schema accepts. */
export type Static<S> = S extends Schema<infer T> ? T : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Object type with the `required` keys mandatory and every other property optional. */
export type ObjectOf<P extends Record<string, Schema<unknown>>, R extends keyof P> = Simplify<{ [K in R]: Static<P[K]> } & { [K in Exclude<keyof P, R>]?: Static<P[K]> }>;

interface Common {
  rules?: readonly ValidationRule[];
}

function node<T>(json: JsonSchemaProps, rules?: readonly ValidationRule[]): Schema<T> {
  return { json: rules && rules.length > 0 ? { ...json, 'x-kubernetes-validations': rules } : json };
}

/** Options of {@link string}. */
export interface StringOptions extends Common {
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  format?: 'date-time' | 'byte';
}

/** A string. */
export function string(description: string, options: StringOptions = {}): Schema<string> {
  const { rules, ...rest } = options;
  return node({ type: 'string', description, ...rest }, rules);
}

/** One of a fixed list of strings; the type is the union of the literals. */
export function enumeration<const V extends string>(description: string, values: readonly V[], options: Common = {}): Schema<V> {
  return node({ type: 'string', description, enum: values }, options.rules);
}

/** Options of {@link integer}. */
export interface IntegerOptions extends Common {
  minimum?: number;
  maximum?: number;
  format?: 'int32' | 'int64';
}

/** An integer. */
export function integer(description: string, options: IntegerOptions = {}): Schema<number> {
  const { rules, ...rest } = options;
  return node({ type: 'integer', description, ...rest }, rules);
}

/** A boolean. */
export function boolean(description: string, options: Common = {}): Schema<boolean> {
  return node({ type: 'boolean', description }, options.rules);
}

/** Options of {@link array}. */
export interface ArrayOptions extends Common {
  minItems?: number;
  /** Always bound lists: the API server's CEL cost estimate depends on it. */
  maxItems: number;
  /** `set`: items are unique scalars; `map`: items are objects unique by `mapKeys`. */
  listType?: 'atomic' | 'set' | 'map';
  mapKeys?: readonly string[];
}

/** A list. */
export function array<T>(description: string, items: Schema<T>, options: ArrayOptions): Schema<T[]> {
  const { rules, listType, mapKeys, ...rest } = options;
  return node(
    {
      type: 'array',
      description,
      ...rest,
      items: items.json,
      ...(listType ? { 'x-kubernetes-list-type': listType } : {}),
      ...(mapKeys ? { 'x-kubernetes-list-map-keys': mapKeys } : {}),
    },
    rules,
  );
}

/** Options of {@link object}. */
export interface ObjectOptions<R extends string> extends Common {
  required?: readonly R[];
}

/** An object with known properties; unknown fields are refused (or pruned). */
export function object<P extends Record<string, Schema<unknown>>, const R extends keyof P & string = never>(
  description: string,
  properties: P,
  options: ObjectOptions<R> = {},
): Schema<ObjectOf<P, R>> {
  return node(objectJson(description, properties, options.required), options.rules);
}

/**
 * An object with known (typed, documented) properties that also keeps any other key. Other
 * keys are invisible to CEL field access, but `size(dyn(self))` counts them.
 */
export function extensibleObject<P extends Record<string, Schema<unknown>>, const R extends keyof P & string = never>(
  description: string,
  properties: P,
  options: ObjectOptions<R> = {},
): Schema<ObjectOf<P, R> & { [key: string]: unknown }> {
  return node({ ...objectJson(description, properties, options.required), 'x-kubernetes-preserve-unknown-fields': true }, options.rules);
}

function objectJson(description: string, properties: Record<string, Schema<unknown>>, required: readonly string[] | undefined): JsonSchemaProps {
  const props: Record<string, JsonSchemaProps> = {};
  for (const [key, schema] of Object.entries(properties)) props[key] = schema.json;
  return { type: 'object', description, properties: props, ...(required && required.length > 0 ? { required } : {}) };
}

/** The same schema with another description (for a shared shape used in several places). */
export function describe<T>(schema: Schema<T>, description: string): Schema<T> {
  return { json: { ...schema.json, description } };
}

/** The same schema with extra CEL rules appended. */
export function withRules<T>(schema: Schema<T>, rules: readonly ValidationRule[]): Schema<T> {
  const existing = schema.json['x-kubernetes-validations'] ?? [];
  return { json: { ...schema.json, 'x-kubernetes-validations': [...existing, ...rules] } };
}
