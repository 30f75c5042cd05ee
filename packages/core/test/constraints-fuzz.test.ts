/**
 * Fuzz run (fast-check, fixed seeds) of the version-constraint parser: any text either parses or
 * fails with an InputError (never another exception, never a slow regular expression), what it
 * accepts round-trips, and matching agrees with a plain model of the operators.
 */
import { isOpenDepotError } from '@opendepot/sdk';
import fc from 'fast-check';
import semver from 'semver';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareVersions, parseConstraints, satisfies, tryParseVersion, type ParsedVersion } from '../src/constraints/index.ts';

// Fixed, so runs repeat; OPENDEPOT_FUZZ_SEED explores others (a finding becomes a regular test).
const SEED = Number(process.env.OPENDEPOT_FUZZ_SEED ?? 20261202);
/** One parse of even an 8,000-character text takes well under this, even on a loaded machine. */
const SLOW_MS = 500;

/** Runs `property` with the fixed seed and prints the count (for the fuzz note). */
async function fuzz(name: string, numRuns: number, property: fc.IProperty<never> | fc.IAsyncProperty<never>): Promise<void> {
  const started = performance.now();
  const details = await fc.check(property as fc.IAsyncProperty<never>, { seed: SEED, numRuns });
  console.log(`fuzz ${name}: seed ${SEED}, ${details.numRuns} runs, ${details.numSkips} skipped, ${Math.round(performance.now() - started)} ms`);
  if (details.failed) assert.unreachable(`${fc.defaultReportMessage(details) ?? `${name} failed`}\n${String((details.errorInstance as Error | undefined)?.stack ?? details.errorInstance)}`);
}

/** Only an InputError may come out; anything else is a bug (rethrown with the input). */
function typedOnly<T>(input: string, run: () => T, slowMs = SLOW_MS): T | 'input-error' {
  const started = performance.now();
  let outcome: T | 'input-error';
  try {
    outcome = run();
  } catch (err) {
    // An untyped error is the worse bug: report it even when the input was also slow.
    if (!isOpenDepotError(err, 'input')) throw new Error(`untyped ${(err as Error)?.name}: ${(err as Error)?.message} for ${JSON.stringify(input)}`);
    outcome = 'input-error';
  }
  const took = performance.now() - started;
  if (took > slowMs) throw new Error(`took ${Math.round(took)} ms for ${JSON.stringify(input).slice(0, 200)}`);
  return outcome;
}

// Text near the language: its operator characters, digits, separators and a few letters.
const nearAlphabet = fc.constantFrom(...'~><=!^ ,.-+v0123456789abz\t\n'.split(''), '~>', '>=', '<=', '!=', '1.2.3', '-beta.1', '+build.5', '01', '99999999999999999999');
const nearText = fc.array(nearAlphabet, { maxLength: 40 }).map((parts) => parts.join(''));
const anyText = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }), nearText);
// Long runs of one repeated piece: where a backtracking pattern would go quadratic or worse.
const longText = fc
  .tuple(fc.constantFrom('1', '1.', 'a-', '-', '.1', ' ', '~> ', '1.0,', 'v', '0-0.', '+a.'), fc.integer({ min: 100, max: 2000 }), fc.constantFrom('', '!', '1', ' x', '..'))
  .map(([piece, times, tail]) => piece.repeat(times) + tail);

const OPERATORS = ['', '=', '!=', '>', '>=', '<', '<=', '~>'] as const;
const identifier = fc.stringMatching(/^[0-9A-Za-z-]{1,8}$/).filter((id) => !/^0\d+$/.test(id));
const version = fc.record({
  v: fc.boolean(),
  segments: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 3 }),
  pre: fc.option(fc.array(identifier, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  build: fc.option(fc.array(identifier, { minLength: 1, maxLength: 2 }), { nil: undefined }),
});
type GenVersion = typeof version extends fc.Arbitrary<infer T> ? T : never;
const versionText = (g: GenVersion) => `${g.v ? 'v' : ''}${g.segments.join('.')}${g.pre ? `-${g.pre.join('.')}` : ''}${g.build ? `+${g.build.join('.')}` : ''}`;
const space = fc.constantFrom('', ' ', '  ', '\t');
const piece = fc.tuple(fc.constantFrom(...OPERATORS), space, version, space, space);
const constraintPieces = fc.array(piece, { minLength: 1, maxLength: 4 });
const constraintText = (pieces: [string, string, GenVersion, string, string][]) => pieces.map(([op, s1, v, s2, s3]) => `${s2}${op}${op ? s1 : ''}${versionText(v)}${s3}`).join(',');

test('any text: parseConstraints returns constraints or throws InputError, quickly', async () => {
  await fuzz(
    'parseConstraints(any text)',
    10000,
    fc.property(anyText, (text) => {
      const parsed = typedOnly(text, () => parseConstraints(text));
      if (parsed !== 'input-error') assert.ok(parsed.items.length > 0);
    }) as never,
  );
  await fuzz('parseConstraints(long repetitive text)', 500, fc.property(longText, (text) => void typedOnly(text, () => parseConstraints(text))) as never);
});

// Found by the fuzz run (seed 424242): every piece quoted the whole text up front, so a long list
// took quadratic time (80 KB: 10 s); the CRD caps the field at 1,024 characters, the parser did not.
test('a long constraint list parses, or fails on its last piece, in linear time', () => {
  for (const tail of ['', ',..']) {
    const text = Array.from({ length: 20_000 }, () => '>= 1.0').join(',') + tail;
    const started = performance.now();
    const outcome = typedOnly(text.slice(0, 40), () => parseConstraints(text), 2_000);
    assert.is(outcome === 'input-error', tail !== '');
    assert.ok(performance.now() - started < 2_000);
  }
});

test('any text: tryParseVersion never throws; what it accepts has a canonical form that parses to itself', async () => {
  await fuzz(
    'tryParseVersion(any text)',
    10000,
    fc.property(fc.oneof(anyText, longText, version.map(versionText)), (text) => {
      const parsed = typedOnly(text, () => tryParseVersion(text));
      assert.is.not(parsed, 'input-error', 'tryParseVersion reports problems as a sentence');
      if (typeof parsed === 'string') return;
      const again = tryParseVersion(parsed.canonical) as ParsedVersion;
      assert.type(again, 'object', `${parsed.canonical} does not parse again`);
      assert.is(again.canonical, parsed.canonical);
      assert.is(compareVersions(parsed, again), 0);
    }) as never,
  );
});

test("compareVersions orders as semver's precedence (build metadata ignored), pre-releases included", async () => {
  const withoutBuild = (p: ParsedVersion) => p.canonical.split('+')[0]!;
  await fuzz(
    'compareVersions(a, b) = semver.compare',
    5000,
    fc.property(version, version, (ga, gb) => {
      const a = tryParseVersion(versionText(ga));
      const b = tryParseVersion(versionText(gb));
      if (typeof a === 'string' || typeof b === 'string') return;
      const expected = semver.compare(withoutBuild(a), withoutBuild(b));
      assert.is(compareVersions(a, b), expected, `${a.canonical} vs ${b.canonical}`);
      assert.is(compareVersions(a.canonical, b.canonical), expected, 'the same from the text');
      assert.is(compareVersions(b, a), -expected || 0, 'antisymmetric');
    }) as never,
  );
});

test('written constraints parse; their canonical text parses to the same constraints', async () => {
  await fuzz(
    'parseConstraints(written constraints)',
    5000,
    fc.property(constraintPieces, (pieces) => {
      const text = constraintText(pieces);
      const parsed = typedOnly(text, () => parseConstraints(text));
      // semver refuses some texts the pattern lets through (e.g. over-long ones): then an InputError is right.
      if (parsed === 'input-error') return;
      assert.is(parsed.items.length, pieces.length);
      assert.is(parseConstraints(parsed.toString()).toString(), parsed.toString());
    }) as never,
  );
});

// A plain model of the operators on release versions (no pre-release): tuples compared by hand.
const release = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }));
type Tuple = [number, number, number];
const cmp = (a: Tuple, b: Tuple) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
function model(op: (typeof OPERATORS)[number], bound: number[], v: Tuple): boolean {
  const full: Tuple = [bound[0] ?? 0, bound[1] ?? 0, bound[2] ?? 0];
  const order = cmp(v, full);
  switch (op) {
    case '':
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '~>':
      // ~> X.Y.Z: >= X.Y.Z, < X.(Y+1).0; ~> X.Y and ~> X: >= X.Y.0, < (X+1).0.0.
      return order >= 0 && v[0] === full[0] && (bound.length < 3 || v[1] === full[1]);
  }
}

test('matching release versions agrees with a plain model of every operator (comma = and)', async () => {
  const bound = fc.tuple(fc.constantFrom(...OPERATORS), fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 }));
  await fuzz(
    'satisfies(release, constraints) vs model',
    10000,
    fc.property(fc.array(bound, { minLength: 1, maxLength: 3 }), release, (bounds, v) => {
      const text = bounds.map(([op, b]) => `${op} ${b.join('.')}`).join(', ');
      assert.is(
        satisfies(v.join('.'), text),
        bounds.every(([op, b]) => model(op, b, v)),
        `${v.join('.')} against "${text}"`,
      );
    }) as never,
  );
});

test('a pre-release matches only when an = piece names it exactly', async () => {
  await fuzz(
    'satisfies(pre-release, constraints)',
    5000,
    fc.property(constraintPieces, version, (pieces, candidate) => {
      const text = constraintText(pieces);
      const v = versionText({ ...candidate, pre: candidate.pre ?? ['rc'] });
      const matched = typedOnly(`${v} / ${text}`, () => satisfies(v, text));
      if (matched === 'input-error' || !matched) return;
      const parsed = tryParseVersion(v) as ParsedVersion;
      assert.ok(
        parseConstraints(text).items.some((i) => i.operator === '=' && compareVersions(i.version, parsed) === 0),
        `${v} matched "${text}"`,
      );
    }) as never,
  );
});

test.run();
