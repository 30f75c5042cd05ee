/** The one bound every condition and Event message goes through: credentials removed, length capped. */
import { redactString } from '../logging/redact.ts';

/** Longest condition or Event message; the API server allows 32768, but a condition is read by people. */
export const MAX_CONDITION_MESSAGE = 1024;

/** `text` with credentials removed (URLs, tokens, keys) and cut to {@link MAX_CONDITION_MESSAGE} characters. */
export function conditionMessage(text: string): string {
  const clean = redactString(text);
  return clean.length <= MAX_CONDITION_MESSAGE ? clean : `${clean.slice(0, MAX_CONDITION_MESSAGE - 1)}…`;
}
