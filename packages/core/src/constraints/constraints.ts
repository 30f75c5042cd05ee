import { InputError } from '@opendepot/sdk';
import { compareVersions, tryParseVersion, VERSION_FORMS, type ParsedVersion, type VersionParseOptions } from './version.ts';

/** An operator of the Terraform/OpenTofu version-constraint language. */
export type ConstraintOperator = '=' | '!=' | '>' | '>=' | '<' | '<=' | '~>';

/** Every operator, in the order error messages list them. */
export const CONSTRAINT_OPERATORS: readonly ConstraintOperator[] = ['=', '!=', '>', '>=', '<', '<=', '~>'];

/** One comparison of a constraint string, such as `>= 1.2.0` or `~> 1.2`. */
export interface VersionConstraint {
  /** The operator; a piece written without one gets `=`. */
  readonly operator: ConstraintOperator;
  /** The version it compares against, as written (its segment count matters to `~>`). */
  readonly version: ParsedVersion;
}

const OPERATORS_SENTENCE = 'Valid operators are =, !=, >, >=, <, <=, ~> (no operator means =), and constraints are joined with commas.';
const EXAMPLES_HINT = 'Write constraints like "~> 1.2", ">= 1.2.0, < 2.0.0" or "= 1.3.0-beta.1".';

// Longest operators first so ">=" is not read as ">" followed by "=1.0".
const PIECE_PATTERN = /^(~>|>=|<=|!=|>|<|=)?\s*([\s\S]*)$/;
const OPERATOR_CHARACTERS = /^[<>=!~^]+/;
const MISTYPED_OPERATORS: Readonly<Record<string, string>> = {
  '=>': '>=',
  '=<': '<=',
  '==': '=',
  '~': '~>',
  '^': '~>',
  '=~': '~>',
};

/**
 * A parsed version-constraint string: every {@link VersionConstraint} must hold (comma means AND).
 *
 * Matching follows what Terraform and OpenTofu do when they pick a module or provider version:
 *
 * - `=` (or no operator) and `!=` compare by semver precedence; build metadata is ignored.
 * - `>`, `>=`, `<`, `<=` compare by semver precedence; a pre-release bound is allowed and
 *   orders before its release (`>= 2.1.0-a` admits `2.1.1`, go-version's `constraint_test.go`).
 * - `~> X.Y.Z` means `>= X.Y.Z, < X.(Y+1).0`; `~> X.Y` and `~> X` mean `>= X.Y.0, < (X+1).0.0`.
 *   This is the provider resolver's reading (apparentlymart/go-versions `ParseRubyStyle`).
 *   hashicorp/go-version leaves `~> X` unbounded above (hashicorp/go-version#162), which we
 *   do not copy. A `~>` whose version is a pre-release matches nothing: go-version restricts
 *   it to pre-releases, and the rule below excludes those.
 * - Pre-releases: a version with a pre-release (`1.3.0-beta.1`) matches only when an `=` (or
 *   operator-less) piece names that same version, and every other piece also holds, with the
 *   range operators `>`, `>=`, `<`, `<=`, `~>` never holding for a pre-release. Terraform's and
 *   OpenTofu's docs ("Version Constraints"): "A prerelease version can be selected only by an
 *   exact version constraint"; their module installers (internal/initwd/module_install.go)
 *   accept a pre-release only if go-versions sees it requested exactly *and* go-version's
 *   `Check` passes, which fails for any range piece — Terraform's acceptance test expects
 *   `"0.0.3-alpha.1, >=0.0.2"` to find no version. `!=` pieces do not block an exact request.
 */
export class Constraints {
  /** The comparisons, in the order written. */
  readonly items: readonly VersionConstraint[];

  /** Prefer {@link parseConstraints}; this takes already-parsed comparisons. */
  constructor(items: readonly VersionConstraint[]) {
    this.items = items;
  }

  /**
   * Whether `version` satisfies every comparison.
   *
   * @throws InputError when `version` is not a version.
   */
  matches(version: string | ParsedVersion): boolean {
    const candidate = typeof version === 'string' ? parseVersionOrThrow(version) : version;
    if (candidate.prerelease !== '' && !this.requestsExactly(candidate)) return false;
    return this.items.every((item) => holds(item, candidate));
  }

  /** Canonical text: each comparison with its operator, joined by `", "`, e.g. `~> 1.2, != 1.2.3`. */
  toString(): string {
    return this.items.map((item) => `${item.operator} ${writtenForm(item.version)}`).join(', ');
  }

  private requestsExactly(version: ParsedVersion): boolean {
    return this.items.some((item) => item.operator === '=' && compareVersions(item.version, version) === 0);
  }
}

function holds(item: VersionConstraint, version: ParsedVersion): boolean {
  const order = compareVersions(version, item.version);
  switch (item.operator) {
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
  }
  if (version.prerelease !== '') return false;
  switch (item.operator) {
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '~>':
      return item.version.prerelease === '' && order >= 0 && withinPessimisticBound(item.version, version);
  }
}

/** The upper half of `~>`: only the last written segment may grow (two segments for `~> X`). */
function withinPessimisticBound(bound: ParsedVersion, version: ParsedVersion): boolean {
  if (version.major !== bound.major) return false;
  return bound.segmentCount < 3 || version.minor === bound.minor;
}

function writtenForm(version: ParsedVersion): string {
  const numbers = [version.major, version.minor, version.patch].slice(0, version.segmentCount).join('.');
  const prerelease = version.prerelease === '' ? '' : `-${version.prerelease}`;
  const build = version.build === '' ? '' : `+${version.build}`;
  return `${numbers}${prerelease}${build}`;
}

function parseVersionOrThrow(text: string): ParsedVersion {
  const result = tryParseVersion(text);
  if (typeof result === 'string') throw new InputError(`${result}. Expected ${VERSION_FORMS}.`);
  return result;
}

/**
 * Parses a Terraform/OpenTofu version-constraint string, as hashicorp/go-version's
 * `NewConstraint` does: comma-separated pieces that must all hold, each an optional operator
 * (`=`, `!=`, `>`, `>=`, `<`, `<=`, `~>`; none means `=`) and a version of one to three
 * segments with an optional `v`, pre-release and build metadata. Whitespace around operators,
 * versions and commas is ignored. See {@link Constraints} for the matching rules.
 *
 * @throws InputError naming the offending piece and listing the valid operators, for an empty
 * string, an empty piece (`"1.0,"`), an unknown operator (`"=> 1.0"`, `">==1.0"`), a missing
 * version (`"~>"`), a non-version (`"latest"`, `"1.2.3.4"`) or a missing comma (`">= 1.0 <2.0"`).
 */
export function parseConstraints(text: string, options: VersionParseOptions = {}): Constraints {
  const fail = (problem: string): never => {
    throw new InputError(`${problem}. ${OPERATORS_SENTENCE}`, { field: options.field, hint: EXAMPLES_HINT });
  };
  if (typeof text !== 'string') fail(`Version constraint must be a string, got ${typeof text}`);
  if (text.trim() === '') fail(`Version constraint ${JSON.stringify(text)} is empty`);

  const pieces = text.split(',');
  const items = pieces.map((piece, index) => {
    // Only built for an error: quoting the whole text for every piece would be quadratic.
    const where = () => (pieces.length > 1 ? ` in ${JSON.stringify(text)}` : '');
    const trimmed = piece.trim();
    if (trimmed === '') {
      return fail(`Invalid version constraint ${JSON.stringify(text)}: constraint ${index + 1} of ${pieces.length} is empty (stray comma?)`);
    }
    const problem = (reason: string): never => fail(`Invalid version constraint ${JSON.stringify(trimmed)}${where()}: ${reason}`);

    const [, written = '', rest = ''] = PIECE_PATTERN.exec(trimmed) ?? [];
    const strayOperator = OPERATOR_CHARACTERS.exec(rest)?.[0];
    if (strayOperator !== undefined) {
      const operatorText = trimmed.slice(0, trimmed.length - rest.length + strayOperator.length);
      const joined = operatorText.replace(/\s+/g, '');
      const suggestion = MISTYPED_OPERATORS[joined] ?? (CONSTRAINT_OPERATORS.includes(joined as ConstraintOperator) ? joined : undefined);
      problem(`${JSON.stringify(operatorText)} is not an operator${suggestion === undefined ? '' : ` (did you mean ${JSON.stringify(suggestion)}?)`}`);
    }
    if (rest === '') problem(`operator ${JSON.stringify(written)} must be followed by a version`);
    // go-version reads ">= 1.0 <2.0" as one malformed piece; the usual cause is a missing comma.
    if (/\s+(?:[<>=!~]|v?\d)/.test(rest)) {
      problem(`${JSON.stringify(rest)} is not a single version; separate constraints with a comma, e.g. ">= 1.0, < 2.0"`);
    }
    const version = tryParseVersion(rest);
    if (typeof version === 'string') problem(`${version}; versions look like ${VERSION_FORMS}`);
    const operator = (written === '' ? '=' : written) as ConstraintOperator;
    return { operator, version: version as ParsedVersion };
  });
  return new Constraints(items);
}

function toConstraints(constraints: string | Constraints): Constraints {
  return typeof constraints === 'string' ? parseConstraints(constraints) : constraints;
}

/**
 * Whether `version` satisfies the constraints (see {@link Constraints} for the rules).
 *
 * @throws InputError when the constraints are malformed or `version` is not a version.
 */
export function satisfies(version: string, constraints: string | Constraints): boolean {
  return toConstraints(constraints).matches(version);
}

/**
 * The versions that satisfy the constraints, in their original order and spelling.
 * Entries that are not versions are skipped, as Terraform and OpenTofu skip (with a warning)
 * registry versions they cannot parse.
 *
 * @throws InputError when the constraints are malformed.
 */
export function filterVersions(versions: readonly string[], constraints: string | Constraints): string[] {
  const parsed = toConstraints(constraints);
  return versions.filter((version) => {
    const candidate = tryParseVersion(version);
    return typeof candidate !== 'string' && parsed.matches(candidate);
  });
}

/**
 * The newest version (by semver precedence) that satisfies the constraints, spelled as given,
 * or `undefined` when none does — what `tofu init` / `terraform init` would select.
 * Entries that are not versions are skipped; among equal versions the first one wins.
 *
 * @throws InputError when the constraints are malformed.
 */
export function newestMatching(versions: readonly string[], constraints: string | Constraints): string | undefined {
  const parsed = toConstraints(constraints);
  let newest: { text: string; version: ParsedVersion } | undefined;
  for (const text of versions) {
    const version = tryParseVersion(text);
    if (typeof version === 'string' || !parsed.matches(version)) continue;
    if (newest === undefined || compareVersions(version, newest.version) > 0) newest = { text, version };
  }
  return newest?.text;
}
