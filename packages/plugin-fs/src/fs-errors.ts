/** Recognising file-system errors by their `code`. */

/** The errno code of a Node file-system error, such as `ENOENT`. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether the path (or one of its directories) does not exist. */
export function isMissing(err: unknown): boolean {
  const code = errnoOf(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Whether the volume is out of space or quota: retrying after a clean-up may succeed. */
export function isFull(err: unknown): boolean {
  const code = errnoOf(err);
  return code === 'ENOSPC' || code === 'EDQUOT';
}
