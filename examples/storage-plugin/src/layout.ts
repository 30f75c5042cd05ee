/**
 * Where objects live on the WebDAV server, and why.
 *
 * A key `modules/acme/vpc/aws/1.2.0.zip` owns the collection `modules/acme/vpc/aws/1.2.0.zip.odv/`
 * holding:
 * - versions `v<seq>-<writtenAt>-<id>-<sha256>-<size>`: complete objects, written once and never
 *   changed. The name carries the metadata, so a listing (one PROPFIND) is a `stat`, and what a
 *   reader learns from a name always describes the bytes under that name;
 * - temporaries `tmp-<createdAt>-<id>`: uploads in progress, invisible to readers.
 *
 * The current object is the version with the greatest name (fixed-width fields, so the order of
 * names is the order of `seq`, then time, then id). A put uploads a temporary, then MOVEs it to a
 * fresh version name without overwriting anything: that rename is the moment it becomes visible.
 * It never relies on `MOVE` with `Overwrite: T`, which RFC 4918 (9.9.3) defines as a DELETE of the
 * destination followed by the move, leaving a moment in which the key is missing.
 *
 * A delete MOVEs the whole collection to a trash name `<name>.<id>.odt` (the key vanishes at once)
 * and then deletes that.
 */
import { randomBytes } from 'node:crypto';

/** Suffix of a key's collection of versions. */
export const VERSIONS_SUFFIX = '.odv';
/** Suffix of a collection being deleted. */
export const TRASH_SUFFIX = '.odt';

const VERSION = /^v(\d{12})-(\d{13})-([0-9a-f]{16})-([0-9a-f]{64})-(\d{1,16})$/;
const TEMPORARY = /^tmp-(\d{13})-([0-9a-f]{16})$/;

/** A complete object, as its name describes it. */
export interface Version {
  /** The entry's name in the key's collection. */
  name: string;
  seq: number;
  writtenAt: number;
  sha256: string;
  size: number;
}

/** An upload in progress (or abandoned). */
export interface Temporary {
  name: string;
  createdAt: number;
}

/** What a key's collection holds. */
export interface Listing {
  /** Oldest first; the last one is the current object. */
  versions: Version[];
  temporaries: Temporary[];
}

/** A random id for a temporary or a version: 64 bits as 16 hex digits. */
export function newId(): string {
  return randomBytes(8).toString('hex');
}

/** The path segments of the collection a key's versions live in. */
export function versionsCollection(segments: readonly string[]): string[] {
  return [...segments.slice(0, -1), `${segments.at(-1)!}${VERSIONS_SUFFIX}`];
}

/** The path segments of a trash collection beside the key's collection. */
export function trashCollection(segments: readonly string[], id: string): string[] {
  return [...segments.slice(0, -1), `${segments.at(-1)!}.${id}${TRASH_SUFFIX}`];
}

/** The name of a new temporary. */
export function temporaryName(createdAt: number, id: string): string {
  return `tmp-${pad(createdAt, 13)}-${id}`;
}

/** The name of a version. */
export function versionName(v: Omit<Version, 'name'>, id: string): string {
  return `v${pad(v.seq, 12)}-${pad(v.writtenAt, 13)}-${id}-${v.sha256}-${v.size}`;
}

/** Sorts the entry names of a key's collection into versions and temporaries; others are ignored. */
export function parseListing(names: Iterable<string>): Listing {
  const versions: Version[] = [];
  const temporaries: Temporary[] = [];
  for (const name of names) {
    const v = VERSION.exec(name);
    if (v !== null) {
      versions.push({ name, seq: Number(v[1]), writtenAt: Number(v[2]), sha256: v[4]!, size: Number(v[5]) });
      continue;
    }
    const t = TEMPORARY.exec(name);
    if (t !== null) temporaries.push({ name, createdAt: Number(t[1]) });
  }
  versions.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { versions, temporaries };
}

/** The current object of a listing, if any. */
export function currentVersion(listing: Listing): Version | undefined {
  return listing.versions.at(-1);
}

/** The sequence number the next version takes: one above every version seen. */
export function nextSeq(listing: Listing): number {
  return (currentVersion(listing)?.seq ?? 0) + 1;
}

function pad(n: number, width: number): string {
  if (!Number.isSafeInteger(n) || n < 0 || String(n).length > width) throw new RangeError(`${n} does not fit in ${width} digits`);
  return String(n).padStart(width, '0');
}
