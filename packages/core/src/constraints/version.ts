import { InputError } from '@opendepot/sdk';
import semver from 'semver';

/** A version as written in a constraint or published by a registry, broken into its parts. */
export interface ParsedVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Dot-separated pre-release identifiers without the leading `-`, or `''` for a release. */
  readonly prerelease: string;
  /** Build metadata without the leading `+`, or `''`. Never affects ordering or equality. */
  readonly build: string;
  /** How many numeric segments were written (1 for `1`, 2 for `1.2`, 3 for `1.2.3`); `~>` depends on it. */
  readonly segmentCount: 1 | 2 | 3;
  /** Canonical `X.Y.Z[-pre][+build]`. */
  readonly canonical: string;
}

/** Options for the parsing functions. */
export interface VersionParseOptions {
  /** Dotted path of the field the text came from, reported on {@link InputError}. */
  field?: string;
}

/** The version forms accepted, for error messages. */
export const VERSION_FORMS = 'MAJOR[.MINOR[.PATCH]][-PRERELEASE][+BUILD], e.g. 1, 1.2, 1.2.3, v1.2.3, 1.2.3-beta.1';

const IDENTIFIERS = '[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*';
// go-version's VersionRegexpRaw, narrowed to semver: an optional "v", one to three numeric
// segments, "-" before the pre-release and "+" before build metadata.
const VERSION_PATTERN = new RegExp(`^v?(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?(?:-(${IDENTIFIERS}))?(?:\\+(${IDENTIFIERS}))?$`);
const TOO_MANY_SEGMENTS = /^v?\d+(?:\.\d+){3,}(?:[-+].*)?$/;

/**
 * Parses a version the way hashicorp/go-version does, restricted to what a registry can serve.
 *
 * Accepts one to three numeric segments (missing ones are zero), an optional leading `v`,
 * a `-pre.release` and `+build` metadata. go-version itself accepts any number of segments,
 * but Terraform's and OpenTofu's provider resolver (apparentlymart/go-versions) allows only
 * MAJOR.MINOR.PATCH and the registry protocols publish semver, so more are rejected.
 * Leading zeros in numeric segments are tolerated and dropped, as go-version does.
 *
 * @throws InputError when `text` is not such a version.
 */
export function parseVersion(text: string, options: VersionParseOptions = {}): ParsedVersion {
  const result = tryParseVersion(text);
  if (typeof result === 'string') {
    throw new InputError(`${result}. Expected ${VERSION_FORMS}.`, { field: options.field });
  }
  return result;
}

/**
 * Parses a version like {@link parseVersion}, returning a sentence that names the problem
 * (e.g. `"latest" is not a version`) instead of throwing, so callers can word their own error.
 */
export function tryParseVersion(text: string): ParsedVersion | string {
  const trimmed = text.trim();
  const match = VERSION_PATTERN.exec(trimmed);
  if (match === null) {
    return TOO_MANY_SEGMENTS.test(trimmed) ? `${JSON.stringify(text)} has more than three numeric segments; at most MAJOR.MINOR.PATCH is supported` : `${JSON.stringify(text)} is not a version`;
  }
  const [, majorText = '', minorText, patchText, prerelease = '', build = ''] = match;
  const segments = [majorText, minorText ?? '0', patchText ?? '0'].map(Number);
  const [major = 0, minor = 0, patch = 0] = segments;
  if (!segments.every(Number.isSafeInteger)) {
    return `${JSON.stringify(text)} has a numeric segment that is too large`;
  }
  const core = `${major}.${minor}.${patch}${prerelease === '' ? '' : `-${prerelease}`}`;
  // semver rejects what the pattern lets through, such as numeric pre-release identifiers
  // with leading zeros (`1.0.0-01`), which would not sort the same everywhere.
  if (semver.valid(core) === null) {
    return `${JSON.stringify(text)} is not a valid semantic version (numeric pre-release identifiers must not have leading zeros)`;
  }
  return {
    major,
    minor,
    patch,
    prerelease,
    build,
    segmentCount: patchText !== undefined ? 3 : minorText !== undefined ? 2 : 1,
    canonical: build === '' ? core : `${core}+${build}`,
  };
}

/**
 * Returns the canonical `X.Y.Z[-pre][+build]` form of a version: `v1.2` becomes `1.2.0`.
 *
 * @throws InputError when `version` is not a version (see {@link parseVersion}).
 */
export function normalizeVersion(version: string, options: VersionParseOptions = {}): string {
  return parseVersion(version, options).canonical;
}

/**
 * Orders two versions by semver precedence: negative when `a` is older, positive when newer,
 * 0 when equal. Build metadata is ignored (semver §10; go-version's `Compare` ignores it too).
 *
 * @throws InputError when either is not a version.
 */
export function compareVersions(a: string | ParsedVersion, b: string | ParsedVersion): number {
  return comparePrecedence(typeof a === 'string' ? parseVersion(a) : a, typeof b === 'string' ? parseVersion(b) : b);
}

function comparePrecedence(a: ParsedVersion, b: ParsedVersion): number {
  // The numeric core decides most comparisons without semver building two objects (sorting
  // 20,000 versions makes ~300,000 comparisons); pre-releases go to semver's own rules.
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1;
  if (a.prerelease === '' && b.prerelease === '') return 0;
  return semver.compare(withoutBuild(a), withoutBuild(b));
}

function withoutBuild(version: ParsedVersion): string {
  const plusAt = version.canonical.indexOf('+');
  return plusAt === -1 ? version.canonical : version.canonical.slice(0, plusAt);
}
