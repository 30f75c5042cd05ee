/**
 * GroupBindings as the server evaluates them: each binding's expression is compiled once (with
 * `expr-eval-fork`) into a predicate over a principal's claims, and its glob lists into matchers
 * over the names of the Modules and Providers of the binding's own namespace.
 *
 * Expressions are tenant input evaluated on every request, so they get a small, checked
 * language rather than all of expr-eval:
 * - at most {@link MAX_EXPRESSION_LENGTH} characters and {@link MAX_EXPRESSION_DEPTH} levels of
 *   brackets and conditionals, checked by a linear scan before the parser runs (so a 100 KB
 *   string or 10,000 parentheses never reach it);
 * - after parsing, every instruction is checked against an allowlist: literals, claim names,
 *   member access and indexing, comparisons, `in`, `and`/`or`/`not`, `? :`, arithmetic, array
 *   literals. Function calls, function definitions, assignments, several statements and the
 *   names `constructor`, `__proto__`, `prototype` (or any other `Object.prototype` member) are
 *   refused, with an {@link InvalidGroupBindingError} naming the problem;
 * - the parser has no functions, no named math operators and no constants but `true` and
 *   `false`, and its `in` only looks into real arrays;
 * - evaluation sees plain-data copies of the claims (null-prototype objects, no functions); a
 *   claim the token does not carry is null; only a boolean `true` matches: anything else, or an
 *   evaluation error (a member of a null claim, say), does not match.
 * Nothing is evaluated while compiling.
 */
import { Parser, type Expression } from 'expr-eval-fork';
import { Minimatch } from 'minimatch';
import { InputError, type Principal, type ProtectedResource } from '@opendepot/sdk';
import type { GroupBinding } from '../crds/groupbinding.ts';

/** A resource a GroupBinding can grant: the SDK's, re-exported for core's callers. */
export type { ProtectedResource };

/** Longest expression compiled (the CRD allows the same). */
export const MAX_EXPRESSION_LENGTH = 4096;
/** Deepest nesting of parentheses, brackets and conditionals. */
export const MAX_EXPRESSION_DEPTH = 32;
/** Longest resource glob (the CRD allows the same). */
export const MAX_GLOB_LENGTH = 253;
/** Most `*` in one glob: each one multiplies what a match may try. */
export const MAX_GLOB_STARS = 8;

/** What is wrong with a GroupBinding. */
export type GroupBindingProblem =
  | 'MissingNamespace'
  | 'EmptyExpression'
  | 'TooLong'
  | 'TooDeep'
  | 'SyntaxError'
  | 'ForbiddenName'
  | 'FunctionCall'
  | 'FunctionDefinition'
  | 'Assignment'
  | 'MultipleStatements'
  | 'ForbiddenOperator'
  | 'InvalidGlob';

/** The condition reasons the operator writes for an invalid binding. */
export type GroupBindingInvalidReason = 'InvalidExpression' | 'InvalidResourcePattern';

/**
 * A GroupBinding that cannot be compiled: `reason` is the condition reason, `problem` what is
 * wrong, `field` where (`spec.expression`, `spec.moduleResources[2]`). The message starts with
 * the field.
 */
export class InvalidGroupBindingError extends InputError {
  readonly reason: GroupBindingInvalidReason;
  readonly problem: GroupBindingProblem;

  constructor(problem: GroupBindingProblem, field: string, message: string, options: { cause?: unknown } = {}) {
    super(`${field}: ${message}`, { field, ...options });
    this.name = 'InvalidGroupBindingError';
    this.problem = problem;
    this.reason = problem === 'InvalidGlob' ? 'InvalidResourcePattern' : 'InvalidExpression';
  }
}

/** A compiled GroupBinding. */
export interface CompiledGroupBinding {
  readonly namespace: string;
  readonly name: string;
  /** True when the principal's claims satisfy the expression (a boolean `true`, nothing else). */
  matches(principal: Principal): boolean;
  /** True when the resource is in this binding's namespace and one of its globs of that kind names it. */
  grants(resource: ProtectedResource): boolean;
}

// ---------------------------------------------------------------------------------------------
// The parser: no functions, no named operators but `not`, no constants but true and false.

/** expr-eval's instructions (its `Expression.tokens`), which its typings do not declare. */
interface Instruction {
  type: string;
  value: unknown;
}

/** Names no expression may use, as a variable or a member: everything `Object.prototype` has, and `prototype`. */
const FORBIDDEN_NAMES: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

const UNARY_OPERATORS: ReadonlySet<string> = new Set(['-', '+', 'not']);
const BINARY_OPERATORS: ReadonlySet<string> = new Set(['+', '-', '*', '/', '%', '==', '!=', '<', '<=', '>', '>=', 'and', 'or', 'in', '[']);
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `needle in haystack`, for arrays only (a claim's `length` is not trusted). */
function inArray(needle: unknown, haystack: unknown): boolean {
  return Array.isArray(haystack) && haystack.includes(needle);
}

function safeParser(): Parser {
  const parser = new Parser({ allowMemberAccess: true });
  const internals = parser as unknown as {
    unaryOps: Record<string, unknown>;
    binaryOps: Record<string, unknown>;
    ternaryOps: Record<string, unknown>;
    functions: Record<string, unknown>;
    consts: Record<string, unknown>;
  };
  // Null-prototype tables: the tokenizer asks `name in table`, and `constructor` must not be in any.
  const only = (from: Record<string, unknown>, names: Iterable<string>) => {
    const result: Record<string, unknown> = Object.create(null);
    for (const name of names) result[name] = from[name];
    return result;
  };
  internals.unaryOps = only(internals.unaryOps, UNARY_OPERATORS);
  // Assignment stays known to the parser so that `x = 1` is refused by name, not as an odd character.
  internals.binaryOps = only(internals.binaryOps, [...BINARY_OPERATORS, '=', '||', '^']);
  internals.binaryOps.in = inArray;
  internals.ternaryOps = only(internals.ternaryOps, ['?']);
  internals.functions = Object.create(null);
  // (A `null` constant would not do: the tokenizer turns constants into numbers, null into 0.)
  internals.consts = only({ true: true, false: false }, ['true', 'false']);
  return parser;
}

const parser = safeParser();

// ---------------------------------------------------------------------------------------------
// Compiling.

/**
 * The linear scan before parsing: length, nesting (parentheses, brackets, `?`), and statement
 * separators, skipping string literals.
 */
function prescan(source: string): void {
  const field = 'spec.expression';
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new InvalidGroupBindingError('TooLong', field, `the expression is ${source.length} characters long; at most ${MAX_EXPRESSION_LENGTH} are allowed`);
  }
  if (source.trim() === '') throw new InvalidGroupBindingError('EmptyExpression', field, 'the expression is empty');
  let depth = 0;
  let conditionals = 0;
  let quote: string | undefined;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '(' || c === '[') depth++;
    // A stray closer is the parser's error to report; it must not buy depth for what follows.
    else if (c === ')' || c === ']') depth = Math.max(0, depth - 1);
    else if (c === '?') conditionals++;
    else if (c === ';') throw new InvalidGroupBindingError('MultipleStatements', field, 'several statements (;) are not allowed: the expression is one boolean condition');
    if (depth + conditionals > MAX_EXPRESSION_DEPTH) {
      throw new InvalidGroupBindingError('TooDeep', field, `the expression nests deeper than ${MAX_EXPRESSION_DEPTH} levels of parentheses, brackets and conditionals`);
    }
  }
}

/** A short rendering of a value on the checker's stack, for messages. */
function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * Checks expr-eval's instructions (reverse Polish, with nested lists for lazily evaluated
 * branches) against the allowlist. It keeps a stack of short descriptions of the operands, so
 * that a refused call can name its callee.
 */
function checkInstructions(tokens: readonly Instruction[], names: Set<string>, depth = 0): void {
  const field = 'spec.expression';
  if (depth > MAX_EXPRESSION_DEPTH) {
    throw new InvalidGroupBindingError('TooDeep', field, `the expression nests deeper than ${MAX_EXPRESSION_DEPTH} levels`);
  }
  // A definition's parameters come first as assignment targets: name the definition, not those.
  if (tokens.some((t) => t.type === 'IFUNDEF')) throw new InvalidGroupBindingError('FunctionDefinition', field, 'function definitions are not allowed');
  const stack: string[] = [];
  const pop = (n: number) => stack.splice(Math.max(0, stack.length - n), n);
  for (const token of tokens) {
    switch (token.type) {
      case 'INUMBER':
        stack.push(show(token.value));
        break;
      case 'IVAR': {
        const name = String(token.value);
        if (UNARY_OPERATORS.has(name) || !IDENTIFIER.test(name)) {
          throw new InvalidGroupBindingError('SyntaxError', field, `the operator ${show(name)} is used as a value`);
        }
        if (FORBIDDEN_NAMES.has(name)) {
          throw new InvalidGroupBindingError('ForbiddenName', field, `the name ${show(name)} is not allowed (an expression reads claims, never prototypes or constructors)`);
        }
        names.add(name);
        stack.push(name);
        break;
      }
      case 'IMEMBER': {
        const name = String(token.value);
        const object = pop(1)[0] ?? '?';
        if (FORBIDDEN_NAMES.has(name)) {
          throw new InvalidGroupBindingError('ForbiddenName', field, `the member ${show(`${object}.${name}`)} is not allowed (an expression reads claims, never prototypes or constructors)`);
        }
        stack.push(`${object}.${name}`);
        break;
      }
      case 'IOP1': {
        const op = String(token.value);
        if (!UNARY_OPERATORS.has(op)) {
          const hint = op === '!' ? ' (it is the factorial in expr-eval; negate with not)' : '';
          throw new InvalidGroupBindingError('ForbiddenOperator', field, `the operator ${show(op)} is not allowed${hint}`);
        }
        stack.push(`${op} ${pop(1)[0] ?? '?'}`);
        break;
      }
      case 'IOP2': {
        const op = String(token.value);
        if (op === '=') throw new InvalidGroupBindingError('Assignment', field, 'assignments (=) are not allowed; compare with ==');
        if (op === '||') {
          throw new InvalidGroupBindingError('ForbiddenOperator', field, 'the operator "||" is not allowed (it is string concatenation in expr-eval; use or)');
        }
        if (!BINARY_OPERATORS.has(op)) throw new InvalidGroupBindingError('ForbiddenOperator', field, `the operator ${show(op)} is not allowed`);
        const [a, b] = pop(2);
        stack.push(op === '[' ? `${a}[${b}]` : `${a} ${op} ${b}`);
        break;
      }
      case 'IOP3':
        if (token.value !== '?') throw new InvalidGroupBindingError('ForbiddenOperator', field, `the operator ${show(token.value)} is not allowed`);
        pop(3);
        stack.push('(? :)');
        break;
      case 'IEXPR':
        checkInstructions(token.value as Instruction[], names, depth + 1);
        stack.push('(...)');
        break;
      case 'IARRAY':
        pop(Number(token.value));
        stack.push('[...]');
        break;
      case 'IFUNCALL': {
        pop(Number(token.value));
        const callee = pop(1)[0] ?? '?';
        const text = callee.length > 40 ? `${callee.slice(0, 37)}...` : callee;
        throw new InvalidGroupBindingError('FunctionCall', field, `function calls are not allowed (${text}(...)): an expression only reads claims`);
      }
      case 'IFUNDEF':
        throw new InvalidGroupBindingError('FunctionDefinition', field, 'function definitions are not allowed');
      case 'IVARNAME':
        throw new InvalidGroupBindingError('Assignment', field, 'assignments (=) are not allowed; compare with ==');
      case 'IENDSTATEMENT':
        throw new InvalidGroupBindingError('MultipleStatements', field, 'several statements (;) are not allowed');
      default:
        throw new InvalidGroupBindingError('SyntaxError', field, `unsupported construct ${show(token.type)}`);
    }
  }
}

/** A hint for the usual slips of people who know other expression languages (Expr, CEL, JavaScript). */
function syntaxHint(source: string): string {
  if (source.includes('&&')) return ' (write and instead of &&)';
  for (let i = 0; i < source.length; i++) {
    if (source[i] === '!' && source[i + 1] !== '=') return ' (negate with not instead of !)';
  }
  return '';
}

/** A checked expression and the claim names it reads. */
interface CheckedExpression {
  expression: Expression;
  names: readonly string[];
}

/** Parses and checks an expression; throws {@link InvalidGroupBindingError}. Never evaluates. */
function compileExpression(source: string): CheckedExpression {
  prescan(source);
  let expression: Expression;
  try {
    expression = parser.parse(source);
  } catch (err) {
    // The pre-scan bounds the nesting, so running out of stack would be a surprise; it is still
    // an invalid expression, not a crash.
    if (err instanceof RangeError) throw new InvalidGroupBindingError('TooDeep', 'spec.expression', 'the expression nests too deeply', { cause: err });
    const message = err instanceof Error ? err.message : String(err);
    throw new InvalidGroupBindingError('SyntaxError', 'spec.expression', `${message}${syntaxHint(source)}`, { cause: err });
  }
  const names = new Set<string>();
  checkInstructions((expression as unknown as { tokens: Instruction[] }).tokens, names);
  return { expression, names: [...names] };
}

/** Compiles one glob of `field`; throws {@link InvalidGroupBindingError}. */
function compileResourceGlob(glob: string, field: string): (name: string) => boolean {
  const refuse = (message: string) => new InvalidGroupBindingError('InvalidGlob', field, `${show(glob)}: ${message}`);
  if (typeof glob !== 'string' || glob.length === 0) throw refuse('a glob must not be empty');
  if (glob.length > MAX_GLOB_LENGTH) throw refuse(`a glob is at most ${MAX_GLOB_LENGTH} characters long`);
  let stars = 0;
  let inClass = false;
  let classStart = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (inClass) {
      if (c === ']' && i > classStart) inClass = false;
      else if (!/[A-Za-z0-9._!^-]/.test(c)) throw refuse(`the character ${show(c)} is not allowed in a [...] class`);
      continue;
    }
    if (c === '[') {
      inClass = true;
      classStart = glob[i + 1] === '!' || glob[i + 1] === '^' ? i + 2 : i + 1;
    } else if (c === '*') {
      stars++;
    } else if (!/[A-Za-z0-9._?-]/.test(c)) {
      throw refuse(`the character ${show(c)} is not allowed (names are matched with *, ? and [...] classes only)`);
    }
  }
  if (inClass) throw refuse('a [ class is not closed with ]');
  if (stars > MAX_GLOB_STARS) throw refuse(`at most ${MAX_GLOB_STARS} * wildcards are allowed in one glob`);
  const matcher = new Minimatch(glob, { nobrace: true, noext: true, nocomment: true, nonegate: true, noglobstar: true, dot: true });
  if (matcher.set.length !== 1 || matcher.set[0]!.length !== 1) throw refuse('not a valid glob');
  return (name) => matcher.match(name);
}

function compileGlobs(globs: readonly string[] | undefined, field: string): ((name: string) => boolean)[] {
  if (globs === undefined) return [];
  if (!Array.isArray(globs)) throw new InvalidGroupBindingError('InvalidGlob', field, 'must be a list of globs');
  return globs.map((glob, i) => compileResourceGlob(glob, `${field}[${i}]`));
}

// ---------------------------------------------------------------------------------------------
// Evaluating.

/** Deepest claim structure copied; deeper parts are left out. */
const MAX_CLAIM_DEPTH = 8;

/** A plain-data copy of a claim value: strings, numbers, booleans, null, frozen arrays and null-prototype objects. */
function plainData(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (depth >= MAX_CLAIM_DEPTH || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) return Object.freeze(value.map((v) => plainData(v, depth + 1) ?? null));
  const copy: Record<string, unknown> = Object.create(null);
  for (const [key, v] of Object.entries(value)) {
    if (FORBIDDEN_NAMES.has(key)) continue;
    const data = plainData(v, depth + 1);
    if (data !== undefined) copy[key] = data;
  }
  return depth === 0 ? copy : Object.freeze(copy);
}

/** Scopes already built, per principal object (a request's principal is evaluated against several bindings). */
const scopes = new WeakMap<Principal, Record<string, unknown>>();

/**
 * What an expression sees: the principal's claims as plain data (null-prototype objects, no
 * functions, no prototype member names), with `groups` (the principal's groups) and `sub` (the
 * token's, else the principal's subject) always set.
 */
export function expressionScope(principal: Principal): Record<string, unknown> {
  let scope = scopes.get(principal);
  if (scope) return scope;
  const claims = principal.claims;
  const copy = claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? plainData(claims) : undefined;
  scope = (copy ?? Object.create(null)) as Record<string, unknown>;
  scope.groups = Object.freeze(Array.isArray(principal.groups) ? principal.groups.filter((g) => typeof g === 'string') : []);
  if (typeof scope.sub !== 'string') scope.sub = principal.subject;
  // Shared by every evaluation for this principal: nothing may change it.
  Object.freeze(scope);
  scopes.set(principal, scope);
  return scope;
}

/**
 * Evaluates a checked expression: true only for a boolean `true`; errors (a member of a claim
 * that is null, say) do not match. A claim the token does not carry is null, as in Expr, so that
 * `email == "x" or "team" in groups` still matches a team member without an email claim.
 */
function evaluates({ expression, names }: CheckedExpression, scope: Record<string, unknown>): boolean {
  let values = scope;
  for (const name of names) {
    if (name in scope) continue;
    if (values === scope) values = Object.create(scope) as Record<string, unknown>;
    values[name] = null;
  }
  try {
    return expression.evaluate(values as never) === true;
  } catch {
    return false;
  }
}

/**
 * Compiles a GroupBinding once: its expression and its globs. Throws
 * {@link InvalidGroupBindingError} (and nothing else) for anything invalid; such a binding
 * grants nothing.
 */
export function compileGroupBinding(binding: Pick<GroupBinding, 'metadata' | 'spec'>): CompiledGroupBinding {
  const namespace = binding.metadata?.namespace;
  const name = binding.metadata?.name ?? '';
  if (!namespace) throw new InvalidGroupBindingError('MissingNamespace', 'metadata.namespace', 'a GroupBinding grants only in its own namespace, and this one has none');
  const spec = binding.spec ?? ({} as GroupBinding['spec']);
  if (typeof spec.expression !== 'string') throw new InvalidGroupBindingError('EmptyExpression', 'spec.expression', 'the expression is missing');
  const expression = compileExpression(spec.expression);
  const moduleGlobs = compileGlobs(spec.moduleResources, 'spec.moduleResources');
  const providerGlobs = compileGlobs(spec.providerResources, 'spec.providerResources');
  return {
    namespace,
    name,
    matches: (principal) => evaluates(expression, expressionScope(principal)),
    grants: (resource) => resource.namespace === namespace && (resource.kind === 'Module' ? moduleGlobs : resource.kind === 'Provider' ? providerGlobs : []).some((m) => m(resource.name)),
  };
}

/** The outcome of {@link decideAccess}. */
export interface AccessDecision {
  allowed: boolean;
  /** The binding that granted access. */
  binding?: { namespace: string; name: string };
  /** Why, for an audit or debug log line. */
  reason: string;
}

/**
 * Whether any binding both grants the resource and matches the principal, with the reason.
 * Bindings are checked for the resource first (cheap), then the expression.
 */
export function decideAccess(bindings: readonly CompiledGroupBinding[], principal: Principal, resource: ProtectedResource): AccessDecision {
  const what = `${resource.kind} ${resource.namespace}/${resource.name}`;
  let granting = 0;
  for (const binding of bindings) {
    if (!binding.grants(resource)) continue;
    granting++;
    if (binding.matches(principal)) {
      return { allowed: true, binding: { namespace: binding.namespace, name: binding.name }, reason: `GroupBinding ${binding.namespace}/${binding.name} grants ${what}` };
    }
  }
  return {
    allowed: false,
    reason:
      granting === 0
        ? `no GroupBinding grants ${what}`
        : `${granting} GroupBinding${granting === 1 ? '' : 's'} grant${granting === 1 ? 's' : ''} ${what}, but the principal's claims match none of their expressions`,
  };
}

/** True when some binding grants the resource to the principal. Deny by default. */
export function bindingsAllow(bindings: readonly CompiledGroupBinding[], principal: Principal, resource: ProtectedResource): boolean {
  return decideAccess(bindings, principal, resource).allowed;
}

/** Either a compiled binding or why it is invalid. */
export type GroupBindingCompilation = { ok: true; binding: CompiledGroupBinding } | { ok: false; error: InvalidGroupBindingError };

/**
 * Compiles GroupBinding objects once per object (an informer replaces the object on every
 * change, so it is the cache key): the server asks it for the compiled bindings on each request.
 */
export class GroupBindingCompiler {
  readonly #cache = new WeakMap<object, GroupBindingCompilation>();

  /** The compilation of one binding, from the cache when this object was seen before. */
  compile(binding: GroupBinding): GroupBindingCompilation {
    let result = this.#cache.get(binding);
    if (!result) {
      try {
        result = { ok: true, binding: compileGroupBinding(binding) };
      } catch (err) {
        if (!(err instanceof InvalidGroupBindingError)) throw err;
        result = { ok: false, error: err };
      }
      this.#cache.set(binding, result);
    }
    return result;
  }

  /** The valid bindings among `bindings`; invalid ones grant nothing and are left out. */
  valid(bindings: Iterable<GroupBinding>): CompiledGroupBinding[] {
    const result: CompiledGroupBinding[] = [];
    for (const b of bindings) {
      const c = this.compile(b);
      if (c.ok) result.push(c.binding);
    }
    return result;
  }
}
