/**
 * GroupBindings compiled and evaluated: the announcement's binding, claims other than groups,
 * namespace isolation, globs, deny by default, hostile expressions refused at compile time (and
 * never evaluated), and a fuzz run (fast-check, fixed seed): any text compiles or fails with an
 * InvalidGroupBindingError, quickly, and never throws anything else.
 */
import type { Principal } from '@opendepot/sdk';
import * as exprEval from 'expr-eval-fork';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  GroupBindingCompiler,
  InvalidGroupBindingError,
  MAX_EXPRESSION_LENGTH,
  bindingsAllow,
  compileGroupBinding,
  decideAccess,
  type GroupBinding,
  type GroupBindingProblem,
  type ProtectedResource,
} from '../src/index.ts';

const SEED = Number(process.env.OPENDEPOT_FUZZ_SEED ?? 20261203);
/** A compile of even a 4 KB expression takes well under this (a few ms), even on a loaded machine. */
const SLOW_MS = 1000;

function binding(expression: string, moduleResources: string[] = ['terraform-aws-*'], providerResources: string[] = ['aws'], namespace = 'team-a', name = 'b'): GroupBinding {
  return {
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'GroupBinding',
    metadata: { namespace, name },
    spec: { expression, moduleResources, providerResources },
  };
}

function principal(groups: string[], claims: Record<string, unknown> = {}): Principal {
  return { subject: 'CiQwOGE4Njg0Yi1kYjg4', provider: 'dex', groups, claims: { sub: 'CiQwOGE4Njg0Yi1kYjg4', ...claims } };
}

const mod = (name: string, namespace = 'team-a'): ProtectedResource => ({ kind: 'Module', namespace, name });
const prov = (name: string, namespace = 'team-a'): ProtectedResource => ({ kind: 'Provider', namespace, name });

/** The problem of the InvalidGroupBindingError compiling `b` throws; fails on success or another error. */
function problemOf(b: GroupBinding): { problem: GroupBindingProblem; message: string; reason: string; field: string | undefined } {
  try {
    compileGroupBinding(b);
  } catch (err) {
    if (err instanceof InvalidGroupBindingError) return { problem: err.problem, message: err.message, reason: err.reason, field: err.field };
    throw new Error(`not an InvalidGroupBindingError: ${String(err)}`, { cause: err });
  }
  assert.unreachable(`compiled: ${JSON.stringify(b.spec).slice(0, 200)}`);
  throw new Error('unreachable');
}

test("the announcement's binding: aws-platform-team reads terraform-aws-* and aws, nothing else", () => {
  const b = compileGroupBinding(binding('"aws-platform-team" in groups'));
  assert.is(b.namespace, 'team-a');
  assert.is(b.name, 'b');
  const member = principal(['developers', 'aws-platform-team']);
  const other = principal(['gcp-platform-team']);
  assert.ok(b.matches(member));
  assert.not.ok(b.matches(other));
  assert.not.ok(b.matches(principal([])));
  assert.ok(bindingsAllow([b], member, mod('terraform-aws-vpc')));
  assert.ok(bindingsAllow([b], member, prov('aws')));
  assert.not.ok(bindingsAllow([b], member, mod('terraform-gcp-network')), 'a module no glob names');
  assert.not.ok(bindingsAllow([b], member, prov('azurerm')));
  assert.not.ok(bindingsAllow([b], member, mod('aws')), 'a provider glob does not grant a module of that name');
  assert.not.ok(bindingsAllow([b], member, prov('terraform-aws-vpc')), 'a module glob does not grant a provider');
  assert.not.ok(bindingsAllow([b], other, mod('terraform-aws-vpc')));
  assert.not.ok(bindingsAllow([], member, mod('terraform-aws-vpc')), 'deny by default');
});

test('a binding grants only in its own namespace', () => {
  const b = compileGroupBinding(binding('"aws-platform-team" in groups', ['*'], ['*'], 'team-a'));
  const member = principal(['aws-platform-team']);
  assert.ok(bindingsAllow([b], member, mod('anything', 'team-a')));
  assert.not.ok(bindingsAllow([b], member, mod('anything', 'team-b')));
  assert.not.ok(bindingsAllow([b], member, prov('aws', 'team-b')));
  assert.not.ok(b.grants(mod('anything', 'team-a-other')));
  assert.not.ok(b.grants(mod('anything', '')));
});

test('claims other than groups: email, sub, name, nested claims, ternaries; missing claims and non-booleans never match', () => {
  const alice = principal(['dev'], { email: 'alice@example.com', name: 'Alice', email_verified: true, realm: { roles: ['registry-reader'], level: 3 } });
  const matches = (expression: string, who: Principal = alice) => compileGroupBinding(binding(expression)).matches(who);
  assert.ok(matches('email == "alice@example.com" and email_verified'));
  assert.ok(matches('sub == "CiQwOGE4Njg0Yi1kYjg4"'));
  assert.ok(matches('name != "Bob" and not ("admins" in groups)'));
  assert.ok(matches('"registry-reader" in realm.roles and realm.level >= 2'));
  assert.ok(matches('realm.roles[0] == "registry-reader"'));
  // Indexing is by integer only (expr-eval truncates the index), so a string index never reaches a prototype.
  assert.ok(matches('groups["constructor"] == "dev"'));
  assert.ok(matches('email in ["alice@example.com", "bob@example.com"]'));
  assert.ok(matches('"x" in groups or "dev" in groups'));
  assert.ok(matches('email_verified ? "dev" in groups : false'));
  assert.ok(matches('true'));
  assert.not.ok(matches('false'));
  // The subject of the principal stands in when the token has no sub claim.
  assert.ok(matches('sub == "svc"', { subject: 'svc', provider: 'dex', groups: [], claims: {} }));
  // A claim the token does not carry is null (as in Expr): it equals nothing, contains nothing,
  // and does not spoil the other side of an `or`; a member of it is an error, which never matches.
  assert.not.ok(matches('department == "platform"'));
  assert.ok(matches('not (department == "platform")'));
  assert.not.ok(matches('"dev" in department'));
  assert.ok(matches('department == "platform" or "dev" in groups'));
  assert.not.ok(matches('org.team == "platform"'));
  assert.not.ok(matches('org.team == "platform" or "dev" in groups'), 'the error ends the whole evaluation');
  // Only a boolean true matches.
  assert.not.ok(matches('email'));
  assert.not.ok(matches('1'));
  assert.not.ok(matches('groups'));
  assert.not.ok(matches('realm.roles.length'));
  // `in` only looks into arrays: not into strings, nor into objects with a forged length.
  assert.not.ok(matches('"a" in email'));
  assert.not.ok(matches('"x" in big', principal([], { big: { length: 1e15, 0: 'x' } })));
  // Claims are plain data: a claim named like a prototype member is dropped, functions are not data.
  const forged = principal(['dev'], { fn: () => true, nested: JSON.parse('{"__proto__": {"admin": true}, "ok": true}') });
  assert.not.ok(matches('fn', forged));
  assert.not.ok(matches('nested.admin == true', forged));
  assert.ok(matches('nested.ok', forged));
  assert.is(({} as Record<string, unknown>).admin, undefined, 'nothing polluted');
  // Claims that are not an object, groups that are not strings: no crash, nothing extra matches.
  const odd = { subject: 's', provider: 'dex', groups: ['dev', 7, null] as never, claims: ['not', 'an', 'object'] as never };
  assert.ok(matches('"dev" in groups and sub == "s"', odd));
  assert.not.ok(matches('7 in groups', odd));
  // The same principal object twice: the scope is built once, and evaluations cannot change it.
  const twice = compileGroupBinding(binding('"dev" in groups and realm.level == 3'));
  assert.ok(twice.matches(alice));
  assert.ok(twice.matches(alice));
  assert.not.ok(twice.matches(principal(['dev'], { realm: { level: 4 } })), 'another principal gets its own scope');
});

test('property: a binding never grants a resource of another namespace, whatever its globs and names', () => {
  const namespace = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
  const name = fc.stringMatching(/^[a-z0-9_-]{1,20}$/);
  const glob = fc.constantFrom('*', '?*', '*-*', 'terraform-*', '[a-z]*', 'a?c');
  const everyone = principal(['x']);
  fc.assert(
    fc.property(namespace, namespace, name, fc.array(glob, { maxLength: 4 }), fc.constantFrom<'Module' | 'Provider'>('Module', 'Provider'), (own, other, resourceName, globs, kind) => {
      fc.pre(own !== other);
      const b = compileGroupBinding(binding('true', globs, globs, own));
      assert.not.ok(bindingsAllow([b], everyone, { kind, namespace: other, name: resourceName }));
      // The same name in its own namespace is granted exactly when a glob of that kind matches.
      assert.is(bindingsAllow([b], everyone, { kind, namespace: own, name: resourceName }), b.grants({ kind, namespace: own, name: resourceName }));
    }),
    { seed: SEED, numRuns: 2_000 },
  );
});

test('globs: *, ?, classes; exact names; nothing matches a name no glob names', () => {
  const b = compileGroupBinding(binding('true', ['terraform-aws-*', 'net-?', 'db-[a-c]x', 'exact', 'no-[!z]'], ['google*']));
  for (const name of ['terraform-aws-vpc', 'terraform-aws-', 'net-1', 'db-bx', 'exact', 'no-a']) assert.ok(b.grants(mod(name)), name);
  for (const name of ['terraform-aws', 'terraform-gcp-vpc', 'net-12', 'db-dx', 'exact2', 'no-z', 'xterraform-aws-vpc', 'Terraform-aws-vpc']) assert.not.ok(b.grants(mod(name)), name);
  assert.ok(b.grants(prov('google-beta')));
  const none = compileGroupBinding({ ...binding('true'), spec: { expression: 'true' } });
  assert.not.ok(none.grants(mod('x')), 'no globs grant nothing');
});

test('invalid globs are refused with the field and the reason InvalidResourcePattern', () => {
  const cases: [string[], RegExp][] = [
    [['ok', ''], /spec\.moduleResources\[1\]: "": a glob must not be empty/],
    [['{a,b}'], /spec\.moduleResources\[0\]: "\{a,b\}": the character "\{" is not allowed/],
    [['+(a|b)'], /the character "\+" is not allowed/],
    [['a/b'], /the character "\/" is not allowed/],
    [['[abc'], /a \[ class is not closed/],
    [['*a*a*a*a*a*a*a*a*a'], /at most 8 \* wildcards/],
    [['x'.repeat(254)], /at most 253 characters/],
  ];
  for (const [globs, message] of cases) {
    const { problem, reason, field, message: text } = problemOf(binding('true', globs));
    assert.is(problem, 'InvalidGlob');
    assert.is(reason, 'InvalidResourcePattern');
    assert.match(field ?? '', /^spec\.moduleResources\[\d+\]$/);
    assert.match(text, message);
  }
  assert.match(problemOf(binding('true', [], ['a b'])).message, /^spec\.providerResources\[0\]: "a b"/);
});

test('hostile expressions are refused at compile time with the problem named, and never evaluated', () => {
  // The library's Expression class (its typings declare only an interface): every evaluation goes through it.
  const { prototype } = (exprEval as unknown as { Expression: { prototype: { evaluate(this: unknown, ...args: unknown[]): unknown } } }).Expression;
  let evaluated = 0;
  const original = prototype.evaluate;
  prototype.evaluate = function (this: unknown, ...args: unknown[]) {
    evaluated++;
    return original.apply(this, args);
  };
  try {
    const hostile: [string, GroupBindingProblem, RegExp][] = [
      ['constructor', 'ForbiddenName', /"constructor" is not allowed/],
      ['groups.constructor', 'ForbiddenName', /"groups\.constructor" is not allowed/],
      ['__proto__', 'ForbiddenName', /"__proto__"/],
      ['groups.__proto__.polluted == 1', 'ForbiddenName', /"groups\.__proto__"/],
      ['x.prototype', 'ForbiddenName', /"x\.prototype"/],
      ['toString == 1', 'ForbiddenName', /"toString"/],
      ['constructor.constructor("return process")()', 'ForbiddenName', /"constructor"/],
      ['exec("whoami")', 'FunctionCall', /function calls are not allowed \(exec\(\.\.\.\)\)/],
      ['groups.map(1)', 'FunctionCall', /\(groups\.map\(\.\.\.\)\)/],
      ['random()', 'FunctionCall', /random/],
      ['sin(1) == 0', 'FunctionCall', /sin/],
      ['f(x) = 1', 'FunctionDefinition', /function definitions/],
      ['admin = true', 'Assignment', /assignments/],
      ['x = 1; x == 1', 'MultipleStatements', /;/],
      ['"a" in groups || "b" in groups', 'ForbiddenOperator', /string concatenation.*use or/],
      ['2!', 'ForbiddenOperator', /factorial/],
      ['!("a" in groups)', 'SyntaxError', /negate with not/],
      ['"a" in groups && "b" in groups', 'SyntaxError', /write and instead of &&/],
      [`"${'a'.repeat(100 * 1024)}" in groups`, 'TooLong', /102\d{3} characters long; at most 4096/],
      ['x'.repeat(MAX_EXPRESSION_LENGTH + 1), 'TooLong', /at most 4096/],
      [`${'('.repeat(10_000)}true${')'.repeat(10_000)}`, 'TooLong', /./],
      [`${'('.repeat(1_000)}true${')'.repeat(1_000)}`, 'TooDeep', /deeper than 32 levels/],
      [`${'['.repeat(40)}1${']'.repeat(40)}`, 'TooDeep', /deeper than 32/],
      [`${'a ? '.repeat(40)}b${' : c'.repeat(40)}`, 'TooDeep', /conditionals/],
      ['', 'EmptyExpression', /empty/],
      ['  \t ', 'EmptyExpression', /empty/],
      ['"a" in', 'SyntaxError', /unexpected/],
      ['not', 'SyntaxError', /used as a value/],
    ];
    for (const [expression, problem, message] of hostile) {
      const started = performance.now();
      const got = problemOf(binding(expression));
      assert.ok(performance.now() - started < SLOW_MS, `slow: ${expression.slice(0, 60)}`);
      assert.is(got.problem, problem, `${expression.slice(0, 80)} → ${got.message}`);
      assert.is(got.reason, 'InvalidExpression');
      assert.is(got.field, 'spec.expression');
      assert.match(got.message, /^spec\.expression: /);
      assert.match(got.message, message, got.message);
      assert.ok(got.message.length < 400, 'the message is bounded');
    }
    assert.is(evaluated, 0, 'nothing was evaluated while compiling');
    // The spy sees evaluations: a valid binding evaluates on matches(), not before.
    const valid = compileGroupBinding(binding('"dev" in groups'));
    assert.is(evaluated, 0);
    assert.ok(valid.matches(principal(['dev'])));
    assert.is(evaluated, 1);
  } finally {
    prototype.evaluate = original;
  }
  assert.is(({} as Record<string, unknown>).polluted, undefined);
  // The longest unary chains the length allows parse and evaluate without exhausting the stack.
  for (const expression of [`${'-'.repeat(MAX_EXPRESSION_LENGTH - 1)}1`, `${'not '.repeat(1023)}true`, `${'- '.repeat(2047)}1`]) {
    const b = compileGroupBinding(binding(expression));
    assert.type(b.matches(principal([])), 'boolean');
  }
});

test('decideAccess explains; invalid bindings grant nothing; the compiler caches per object', () => {
  const member = principal(['aws-platform-team']);
  const good = binding('"aws-platform-team" in groups', ['terraform-aws-*'], [], 'team-a', 'aws');
  const otherTeam = binding('"gcp-platform-team" in groups', ['terraform-*'], [], 'team-a', 'gcp');
  const broken = binding('constructor', ['*'], ['*'], 'team-a', 'broken');
  const compiler = new GroupBindingCompiler();
  const valid = compiler.valid([otherTeam, broken, good]);
  assert.equal(
    valid.map((b) => b.name),
    ['gcp', 'aws'],
  );
  assert.is(compiler.compile(good), compiler.compile(good), 'compiled once per object');
  const failed = compiler.compile(broken);
  assert.ok(!failed.ok && failed.error.problem === 'ForbiddenName');
  assert.equal(decideAccess(valid, member, mod('terraform-aws-vpc')), {
    allowed: true,
    binding: { namespace: 'team-a', name: 'aws' },
    reason: 'GroupBinding team-a/aws grants Module team-a/terraform-aws-vpc',
  });
  assert.equal(decideAccess(valid, member, mod('terraform-gcp-vpc')), {
    allowed: false,
    reason: "1 GroupBinding grants Module team-a/terraform-gcp-vpc, but the principal's claims match none of their expressions",
  });
  assert.equal(decideAccess(valid, member, prov('aws')), { allowed: false, reason: 'no GroupBinding grants Provider team-a/aws' });
  assert.not.ok(bindingsAllow(valid, member, mod('anything')), 'the broken binding grants * to no one');
  assert.is(problemOf({ ...good, metadata: { name: 'x' } }).problem, 'MissingNamespace');
});

test('fuzz: any text compiles or fails with an InvalidGroupBindingError, quickly; a compiled one evaluates to a boolean without throwing', async () => {
  const alphabet = fc.constantFrom(
    ...'()[]."\'\\ ?:;=!<>+-*/%^|&,0123456789abcxyz_$\t\n'.split(''),
    ' in ',
    ' and ',
    ' or ',
    'not ',
    'groups',
    'email',
    'constructor',
    '__proto__',
    'prototype',
    'toString',
    '"aws-platform-team"',
    '==',
    '!=',
    '||',
    'true',
    'false',
  );
  const near = fc.array(alphabet, { maxLength: 120 }).map((parts) => parts.join(''));
  const sampleUser = principal(['aws-platform-team'], { email: 'a@example.com', nested: { roles: ['r'] } });
  let compiled = 0;
  let refused = 0;
  const details = await fc.check(
    fc.property(fc.oneof(near, fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 })), (expression) => {
      const started = performance.now();
      try {
        const b = compileGroupBinding(binding(expression));
        compiled++;
        assert.type(b.matches(sampleUser), 'boolean');
      } catch (err) {
        if (!(err instanceof InvalidGroupBindingError)) throw new Error(`untyped ${(err as Error)?.name}: ${(err as Error)?.message} for ${JSON.stringify(expression)}`);
        refused++;
      }
      const took = performance.now() - started;
      if (took > SLOW_MS) throw new Error(`took ${Math.round(took)} ms for ${JSON.stringify(expression).slice(0, 200)}`);
    }),
    { seed: SEED, numRuns: 20_000 },
  );
  console.log(`fuzz group-binding expressions: seed ${SEED}, ${details.numRuns} runs, ${compiled} compiled, ${refused} refused`);
  if (details.failed) assert.unreachable(`${fc.defaultReportMessage(details) ?? 'fuzz failed'}\n${String((details.errorInstance as Error | undefined)?.stack ?? details.errorInstance)}`);
  assert.ok(compiled > 100, `only ${compiled} compiled: the generator is too far from the language`);
  assert.is(({} as Record<string, unknown>).polluted, undefined);
});

test('fuzz: globs compile or fail with an InvalidGroupBindingError, and matching stays fast', async () => {
  const globChars = fc.constantFrom(...'*?[]!^-._ab{},/+()|\\ '.split(''));
  const glob = fc.array(globChars, { minLength: 0, maxLength: 40 }).map((parts) => parts.join(''));
  const details = await fc.check(
    fc.property(glob, fc.stringMatching(/^[a-z0-9_-]{0,64}$/), (pattern, name) => {
      const started = performance.now();
      try {
        const b = compileGroupBinding(binding('true', [pattern]));
        assert.type(b.grants(mod(name)), 'boolean');
      } catch (err) {
        if (!(err instanceof InvalidGroupBindingError)) throw new Error(`untyped ${(err as Error)?.message} for ${JSON.stringify(pattern)}`);
      }
      const took = performance.now() - started;
      if (took > SLOW_MS) throw new Error(`took ${Math.round(took)} ms for ${JSON.stringify(pattern)} / ${name}`);
    }),
    { seed: SEED, numRuns: 5_000 },
  );
  if (details.failed) assert.unreachable(`${fc.defaultReportMessage(details) ?? 'fuzz failed'}\n${String((details.errorInstance as Error | undefined)?.stack ?? details.errorInstance)}`);
  // The worst case the star limit allows, against the longest name.
  const worst = compileGroupBinding(binding('true', ['*a*a*a*a*a*a*a*b']));
  const started = performance.now();
  assert.not.ok(worst.grants(mod('a'.repeat(64))));
  assert.ok(performance.now() - started < SLOW_MS);
});

test.run();
