/**
 * How one key maps to files. A key `a/b/name` lives in the directory `<root>/a/b` as:
 *
 * - `name.sha256.json`: the pointer. It records the SHA-256, size and write time of the
 *   content and names the blob holding it. It is only ever replaced by an atomic rename, so it
 *   is the single commit point of a put and a delete.
 * - `name.<id>.blob`: the content, written once under a name no other write uses, never
 *   modified afterwards, and deleted once no pointer names it.
 * - `name.<id>.tmp`: a file being written (content or pointer), renamed into place when complete.
 *
 * Why not the content at `<root>/a/b/name` with its metadata beside it? Two renames can never
 * be made atomic together: a reader could pair new content with old metadata, and two racing
 * writers could leave the content of one with the checksum of the other for good. With one
 * pointer per key, whatever a reader finds in the pointer describes exactly the blob it names.
 */
import { randomBytes } from 'node:crypto';

/** Suffix of the pointer file. */
export const POINTER_SUFFIX = '.sha256.json';

const ID_HEX_DIGITS = 16;
const GENERATED = new RegExp(`\\.[0-9a-f]{${ID_HEX_DIGITS}}\\.(blob|tmp)$`);

/** The longest suffix the layout appends to a key's last segment (`.<id>.blob`). */
export const LONGEST_SUFFIX = 1 + ID_HEX_DIGITS + '.blob'.length;

/** A fresh identifier for a blob or temporary file: unique across processes and hosts. */
export function newId(): string {
  return randomBytes(ID_HEX_DIGITS / 2).toString('hex');
}

/** The pointer file of the key whose last segment is `name`. */
export function pointerName(name: string): string {
  return `${name}${POINTER_SUFFIX}`;
}

/** A blob of `name`. */
export function blobName(name: string, id: string): string {
  return `${name}.${id}.blob`;
}

/** A temporary file of `name`. */
export function tmpName(name: string, id: string): string {
  return `${name}.${id}.tmp`;
}

/** Whether `file` is a blob of `name`. */
export function isBlobOf(name: string, file: string): boolean {
  return file.startsWith(`${name}.`) && file.length === name.length + LONGEST_SUFFIX && file.endsWith('.blob') && GENERATED.test(file);
}

/** Whether `file` is a temporary file of `name`. */
export function isTmpOf(name: string, file: string): boolean {
  return file.startsWith(`${name}.`) && file.length === name.length + LONGEST_SUFFIX - 1 && file.endsWith('.tmp') && GENERATED.test(file);
}

/** The key segment a generated blob or temporary file belongs to (`name` of `name.<id>.tmp`), or undefined. */
export function generatedOwner(file: string): string | undefined {
  return GENERATED.test(file) ? file.slice(0, file.length - (file.endsWith('.tmp') ? LONGEST_SUFFIX - 1 : LONGEST_SUFFIX)) : undefined;
}

/** Endings of the layout's own files: a key segment ending like one could collide with one (`checkKey`'s `reservedSuffixes`). */
export const RESERVED_SUFFIXES: readonly (string | RegExp)[] = [POINTER_SUFFIX, GENERATED];
