/** Validation of the paths inside an upstream archive: nothing may point outside the module. */
import { InputError } from '@opendepot/sdk';

/**
 * Turns an archive entry name into a safe relative path (`a/b/c`, no trailing slash), or throws
 * InputError. Refused: absolute paths, drive letters, backslashes, `..` segments, NUL and other
 * control characters. `.` and empty segments are dropped. Returns `''` for the root itself.
 */
export function safeEntryPath(rawName: string): string {
  const name = rawName;
  if (/[\u0000-\u001f\u007f]/.test(name)) throw unsafe(rawName, 'it contains a control character');
  if (name.includes('\\')) throw unsafe(rawName, 'it contains a backslash');
  if (name.startsWith('/')) throw unsafe(rawName, 'it is an absolute path');
  if (/^[A-Za-z]:/.test(name)) throw unsafe(rawName, 'it starts with a drive letter');
  const segments: string[] = [];
  for (const segment of name.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') throw unsafe(rawName, 'it contains a ".." segment');
    segments.push(segment);
  }
  return segments.join('/');
}

/**
 * Removes the single top-level directory GitHub puts in its archives (`<owner>-<repo>-<sha>/`).
 * Returns the path below it, `''` for the directory itself; the first entry seen fixes the name.
 */
export class TopLevelStripper {
  #top: string | undefined;

  strip(path: string, rawName: string): string {
    if (path === '') return '';
    const slash = path.indexOf('/');
    const head = slash === -1 ? path : path.slice(0, slash);
    this.#top ??= head;
    if (head !== this.#top) {
      throw new InputError(`archive entry "${printable(rawName)}" is outside the top-level directory "${this.#top}/" that every entry of a GitHub archive shares`);
    }
    return slash === -1 ? '' : path.slice(slash + 1);
  }
}

/**
 * Resolves a symbolic link target relative to the link's own directory. Returns the path inside
 * the tree it points to, or `undefined` when it points outside (absolute, drive letter, or
 * climbing above the root).
 */
export function resolveLinkTarget(linkPath: string, target: string): string | undefined {
  if (target === '' || target.startsWith('/') || target.includes('\\') || /^[A-Za-z]:/.test(target)) return undefined;
  const parts = linkPath.split('/').slice(0, -1);
  for (const segment of target.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else {
      parts.push(segment);
    }
  }
  return parts.join('/');
}

function unsafe(rawName: string, why: string): InputError {
  return new InputError(`archive entry "${printable(rawName)}" is refused because ${why}; an archive may only hold paths inside the module`);
}

/** The name as it can be shown in a message: control characters escaped, long names cut. */
export function printable(name: string): string {
  const escaped = JSON.stringify(name).slice(1, -1);
  return escaped.length > 200 ? `${escaped.slice(0, 200)}…` : escaped;
}
