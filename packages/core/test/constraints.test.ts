import { isOpenDepotError } from '@opendepot/sdk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Constraints, filterVersions, newestMatching, normalizeVersion, parseConstraints, satisfies } from '../src/constraints/index.ts';

type MatchCase = readonly [constraint: string, version: string, expected: boolean];

// Sources:
//   go-version = hashicorp/go-version constraint_test.go TestConstraintCheck (3-segment rows).
//   docs = Terraform / OpenTofu "Version Constraints" pages.
//   tf-acc = Terraform's module-installer acceptance fixtures for pre-releases.
const MATCH_CASES: readonly MatchCase[] = [
  // go-version
  ['>= 1.0, < 1.2', '1.1.5', true],
  ['< 1.0, < 1.2', '1.1.5', false],
  ['= 1.0', '1.1.5', false],
  ['= 1.0', '1.0.0', true],
  ['1.0', '1.0.0', true],
  ['~> 1.0', '2.0', false],
  ['~> 1.0', '1.1', true],
  ['~> 1.0', '1.2.3', true],
  ['~> 1.0.0', '1.2.3', false],
  ['~> 1.0.0', '1.0.7', true],
  ['~> 1.0.0', '1.1.0', false],
  ['~> 1.0.7', '1.0.4', false],
  ['~> 1.0.7', '1.0.7', true],
  ['~> 1.0.7', '1.0.8', true],
  ['~> 2.0', '2.1.0-beta', false],
  ['~> 2.1.0-a', '2.2.0', false],
  ['~> 2.1.0-a', '2.1.0', false],
  // go-version alone says true; Terraform/OpenTofu also require an exact request for pre-releases.
  ['~> 2.1.0-a', '2.1.0-beta', false],
  ['~> 2.1.0-a', '2.2.0-alpha', false],
  ['> 2.0', '2.1.0-beta', false],
  // go-version alone says true; not an exact request, so Terraform/OpenTofu skip it.
  ['>= 2.1.0-a', '2.1.0-beta', false],
  ['>= 2.1.0-a', '2.1.1-beta', false],
  ['>= 2.0.0', '2.1.0-beta', false],
  ['>= 2.1.0-a', '2.1.1', true],
  ['>= 2.1.0-a', '2.1.0', true],
  ['<= 2.1.0-a', '2.0.0', true],

  // docs: "~> 1.0.4 will allow installation of 1.0.5 and 1.0.10 but not 1.1.0"
  ['~> 1.0.4', '1.0.5', true],
  ['~> 1.0.4', '1.0.10', true],
  ['~> 1.0.4', '1.1.0', false],
  ['~> 1.1', '1.2.0', true],
  ['~> 1.1', '1.10.0', true],
  ['~> 1.1', '2.0.0', false],
  ['~> 1.1', '1.0.9', false],
  ['>= 1.2.0, < 2.0.0', '1.2.0', true],
  ['>= 1.2.0, < 2.0.0', '1.9.9', true],
  ['>= 1.2.0, < 2.0.0', '2.0.0', false],
  ['>= 1.2.0, < 2.0.0', '1.1.9', false],
  ['!= 1.2.3', '1.2.3', false],
  ['!= 1.2.3', '1.2.4', true],
  ['1.2.0', '1.2.0', true],
  ['1.2.0', '1.2.1', false],
  ['> 1.0', '1.0.1', true],
  ['> 1.0', '1.0.0', false],
  ['< 1.0', '0.9.99', true],
  ['< 1.0', '1.0.0', false],
  ['<= 1.0', '1.0.0', true],
  ['<= 1.0', '1.0.1', false],

  // docs: "A prerelease version can be selected only by an exact version constraint"
  ['1.2.0-beta', '1.2.0-beta', true],
  ['= 1.2.0-beta', '1.2.0-beta', true],
  ['= 1.2.0-beta', '1.2.0-beta.2', false],
  ['= 1.2.0-beta', '1.2.0', false],
  ['= 1.2.0', '1.2.0-beta', false],
  ['>= 1.2.0-beta', '1.2.0-beta', false],
  ['<= 1.2.0-beta', '1.2.0-beta', false],
  ['~> 1.2.0-beta', '1.2.0-beta', false],
  ['>= 1.0.0', '2.0.0-rc1', false],
  ['< 2.0.0', '2.0.0-rc1', false],
  ['!= 1.2.0', '1.3.0-beta', false],
  ['= 1.2.0-beta, != 1.2.0', '1.2.0-beta', true],
  // tf-acc: an exact pre-release combined with a range selects nothing
  ['0.0.3-alpha.1, >=0.0.2', '0.0.3-alpha.1', false],
  ['=0.0.3-alpha.1', '0.0.3-alpha.1', true],

  // ~> with one or two segments lets minor grow, never major (apparentlymart/go-versions)
  ['~> 1', '1.0.0', true],
  ['~> 1', '1.9.9', true],
  ['~> 1', '2.0.0', false],
  ['~> 1', '0.9.0', false],
  ['~> 0.12', '0.15.5', true],
  ['~> 0.12', '1.0.0', false],
  ['~> 0.12.0', '0.12.31', true],
  ['~> 0.12.0', '0.13.0', false],
  ['~> 1.2.3, ~> 1.2', '1.2.9', true],

  // spelling: whitespace, "v" prefixes, short versions, build metadata
  ['>=1.0', '1.0.0', true],
  ['>= 1.0', '0.9.0', false],
  [' ~> 1.2 , != 1.2.3 ', '1.2.3', false],
  [' ~> 1.2 , != 1.2.3 ', '1.2.4', true],
  [' ~> 1.2 , != 1.2.3 ', '1.3.0', true],
  [' ~> 1.2 , != 1.2.3 ', '2.0.0', false],
  ['v1.2.3', '1.2.3', true],
  ['>= v1.0', '1.5.0', true],
  ['~> 1.2', 'v1.4.0', true],
  ['1', '1.0.0', true],
  ['= 1.0.0', '1.0.0+abc', true],
  ['> 1.0.0', '1.0.0+abc', false],
  ['>= 1.0, < 1.0', '1.0.0', false],

  // the announcement's examples
  ['>= 21.10.1, != 21.13.0', '21.13.0', false],
  ['>= 21.10.1, != 21.13.0', '21.13.1', true],
  ['>= 21.10.1, != 21.13.0', '21.10.1', true],
  ['>= 21.10.1, != 21.13.0', '21.10.0', false],
  ['>= 10.0.0', '10.0.0', true],
  ['>= 10.0.0', '9.99.99', false],
  ['>= 5.80.0, < 6.0.0', '5.100.0', true],
  ['>= 5.80.0, < 6.0.0', '5.9.0', false],
  ['>= 5.80.0, < 6.0.0', '6.0.0', false],
  ['>= 5.80.0, < 6.0.0', '6.0.0-beta1', false],
];

test('the match table has at least 60 cases', () => {
  assert.ok(MATCH_CASES.length >= 60, `only ${MATCH_CASES.length} cases`);
});

for (const [constraint, version, expected] of MATCH_CASES) {
  test(`${JSON.stringify(constraint)} ${expected ? 'matches' : 'rejects'} ${version}`, () => {
    assert.is(parseConstraints(constraint).matches(version), expected);
    assert.is(satisfies(version, constraint), expected);
  });
}

const VALID_OPERATORS = 'Valid operators are =, !=, >, >=, <, <=, ~>';

/** [constraint text, fragments the message must contain] */
const MALFORMED_CASES: readonly (readonly [string, readonly string[]])[] = [
  ['', ['""', 'empty']],
  ['   ', ['"   "', 'empty']],
  ['>==1.0', ['">==1.0"', '">=="']],
  ['~>', ['"~>"', 'must be followed by a version']],
  ['>=', ['">="', 'must be followed by a version']],
  ['1.2.3.4', ['"1.2.3.4"', 'more than three numeric segments']],
  ['~> 1.2.3.4.5', ['"~> 1.2.3.4.5"', 'more than three numeric segments']],
  ['=> 1.0', ['"=> 1.0"', 'did you mean ">="']],
  ['=< 1.0', ['"=< 1.0"', 'did you mean "<="']],
  ['== 1.0', ['"== 1.0"', 'did you mean "="']],
  ['> = 1.0', ['"> = 1.0"', 'did you mean ">="']],
  ['^1.2', ['"^1.2"', 'did you mean "~>"']],
  ['~ 1.2', ['"~ 1.2"', 'did you mean "~>"']],
  ['1.0,', ['"1.0,"', 'constraint 2 of 2 is empty']],
  [',1.0', ['",1.0"', 'constraint 1 of 2 is empty']],
  ['>= 1.0,, < 2.0', ['">= 1.0,, < 2.0"', 'constraint 2 of 3 is empty']],
  ['latest', ['"latest"', 'is not a version']],
  ['>= 1.0, latest', ['"latest"', 'in ">= 1.0, latest"']],
  ['>= 1.0 <2.0', ['">= 1.0 <2.0"', 'comma']],
  ['>= 1.x', ['">= 1.x"', '"1.x" is not a version']],
  ['1.2.3-', ['"1.2.3-"']],
  ['1.2.3+', ['"1.2.3+"']],
  ['>= 1.0.0-01', ['">= 1.0.0-01"', 'leading zeros']],
  // go-version: "Out of bounds"
  ['11387778780781445675529500000000000000000', ['"11387778780781445675529500000000000000000"', 'too large']],
  // go-version accepts a pre-release without "-"; semver and the provider resolver do not.
  ['1.0beta', ['"1.0beta"', 'is not a version']],
  ['1.0 || 2.0', ['"1.0 || 2.0"']],
];

for (const [text, fragments] of MALFORMED_CASES) {
  test(`parseConstraints rejects ${JSON.stringify(text)}`, () => {
    const error = catchError(() => parseConstraints(text));
    assert.ok(isOpenDepotError(error), `expected an OpenDepotError, got ${String(error)}`);
    assert.is(error.code, 'input');
    assert.is(error.name, 'InputError');
    for (const fragment of [...fragments, VALID_OPERATORS]) {
      assert.ok(error.message.includes(fragment), `${JSON.stringify(error.message)} lacks ${fragment}`);
    }
    assert.ok(error.hint?.includes('>= 1.2.0, < 2.0.0'));
  });
}

test('parseConstraints reports the field it was given', () => {
  const error = catchError(() => parseConstraints('latest', { field: 'spec.versionConstraint' }));
  assert.ok(isOpenDepotError(error));
  assert.is(error.field, 'spec.versionConstraint');
});

test('parseConstraints keeps each piece, defaulting the operator to =', () => {
  const constraints = parseConstraints(' ~> 1.2 , != 1.2.3 ,v2');
  assert.equal(
    constraints.items.map((item) => [item.operator, item.version.canonical, item.version.segmentCount]),
    [
      ['~>', '1.2.0', 2],
      ['!=', '1.2.3', 3],
      ['=', '2.0.0', 1],
    ],
  );
});

test('Constraints.toString is canonical and parses back to the same constraints', () => {
  const cases: readonly (readonly [string, string])[] = [
    [' ~> 1.2 , != 1.2.3 ', '~> 1.2, != 1.2.3'],
    ['1.0', '= 1.0'],
    ['>=v1.2.3-beta.1+build.5', '>= 1.2.3-beta.1+build.5'],
    ['>= 21.10.1,!= 21.13.0', '>= 21.10.1, != 21.13.0'],
    ['~> 1', '~> 1'],
  ];
  for (const [input, expected] of cases) {
    const text = parseConstraints(input).toString();
    assert.is(text, expected);
    assert.is(String(parseConstraints(text)), expected);
  }
});

test('matches and satisfies reject a version that is not one', () => {
  const constraints = parseConstraints('>= 1.0');
  for (const bad of ['latest', '1.2.3.4', '']) {
    const error = catchError(() => constraints.matches(bad));
    assert.ok(isOpenDepotError(error) && error.code === 'input', `${bad} was accepted`);
    assert.ok(error.message.includes(JSON.stringify(bad)));
  }
  assert.throws(() => satisfies('1.0.0', '=> 1.0'), /did you mean ">="/);
});

test('satisfies accepts a parsed Constraints', () => {
  const constraints = parseConstraints('~> 1.2.0');
  assert.ok(constraints instanceof Constraints);
  assert.ok(satisfies('1.2.9', constraints));
  assert.not.ok(satisfies('1.3.0', constraints));
});

test('normalizeVersion returns X.Y.Z[-pre][+build]', () => {
  const cases: readonly (readonly [string, string])[] = [
    ['v1.2', '1.2.0'],
    ['1', '1.0.0'],
    ['v3', '3.0.0'],
    ['1.2.3', '1.2.3'],
    ['1.2-beta.1', '1.2.0-beta.1'],
    ['1.2.3-beta.1+abc.7', '1.2.3-beta.1+abc.7'],
    ['1.2.3+abc', '1.2.3+abc'],
    ['01.02.003', '1.2.3'],
    [' 1.2 ', '1.2.0'],
    ['0.0.0', '0.0.0'],
  ];
  for (const [input, expected] of cases) assert.is(normalizeVersion(input), expected, input);
});

test('normalizeVersion throws InputError for non-versions', () => {
  for (const bad of ['', 'latest', '1.2.3.4', '>= 1.0', 'V1.2', '1.2.x', '1..2', '1.0.0-01', '-1.0.0']) {
    const error = catchError(() => normalizeVersion(bad, { field: 'spec.version' }));
    assert.ok(isOpenDepotError(error), `${JSON.stringify(bad)} was accepted`);
    assert.is(error.code, 'input');
    assert.is(error.field, 'spec.version');
    assert.ok(error.message.includes(JSON.stringify(bad)), error.message);
    assert.ok(error.message.includes('MAJOR[.MINOR[.PATCH]]'), error.message);
  }
});

test('filterVersions keeps matching versions in order and spelling, skipping non-versions', () => {
  assert.equal(filterVersions(['1.1.0', '1.2.0', '1.2.5', '1.3.0'], '~> 1.2.0'), ['1.2.0', '1.2.5']);
  assert.equal(filterVersions(['1.3.0', 'garbage', 'v1.2.7', '1.2.0'], '~> 1.2'), ['1.3.0', 'v1.2.7', '1.2.0']);
  assert.equal(filterVersions(['2.0.0-beta.1', '1.9.0', '2.0.0'], '>= 1.0'), ['1.9.0', '2.0.0']);
  assert.equal(filterVersions(['2.0.0-beta.1', '2.0.0-beta.2'], '2.0.0-beta.2'), ['2.0.0-beta.2']);
  assert.equal(filterVersions([], '>= 1.0'), []);
  assert.throws(() => filterVersions(['1.0.0'], 'latest'), /"latest"/);
});

test('newestMatching picks the highest precedence match', () => {
  const versions = ['1.1.0', '1.2.0', '1.2.5', '1.3.0'];
  assert.is(newestMatching(versions, '~> 1.2.0'), '1.2.5');
  assert.is(newestMatching(versions, '~> 1.2'), '1.3.0');
  assert.is(newestMatching(versions, '< 1.2.0'), '1.1.0');
  assert.is(newestMatching(versions, '>= 2.0'), undefined);
  assert.is(newestMatching([], '>= 1.0'), undefined);
  // numeric, not lexical, ordering
  assert.is(newestMatching(['1.9.0', '1.10.0', '1.2.0'], '~> 1.0'), '1.10.0');
  // unrequested pre-releases are never chosen, even when newest
  assert.is(newestMatching(['1.0.0', '1.1.0-rc.1'], '>= 1.0'), '1.0.0');
  assert.is(newestMatching(['1.0.0', '1.1.0-rc.1'], '1.1.0-rc.1'), '1.1.0-rc.1');
  // the first spelling wins among equal versions
  assert.is(newestMatching(['v1.2', '1.2.0'], '~> 1.2'), 'v1.2');
});

test("newestMatching on the announcement's constraints", () => {
  assert.is(newestMatching(['21.9.0', '21.10.1', '21.12.0', '21.13.0'], '>= 21.10.1, != 21.13.0'), '21.12.0');
  assert.is(newestMatching(['21.10.0', '21.13.0'], '>= 21.10.1, != 21.13.0'), undefined);
  assert.is(newestMatching(['9.2.0', '10.0.0', '10.4.1', '11.0.0-alpha'], '>= 10.0.0'), '10.4.1');
  assert.is(newestMatching(['5.79.0', '5.80.0', '5.100.0', '6.0.0-beta1', '6.0.0', '6.2.0'], '>= 5.80.0, < 6.0.0'), '5.100.0');
});

function catchError(run: () => unknown): Error & { code?: string; field?: string; hint?: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-Error: ${String(error)}`);
  }
  throw new Error('expected an error');
}

test.run();
