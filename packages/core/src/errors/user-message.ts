/** The user-facing text of an OpenDepot error: its message, then its hint, with secrets scrubbed. */
import type { OpenDepotError } from '@opendepot/sdk';
import { redactString } from '../logging/redact.ts';

/** `message` followed by `hint` (when there is one), credentials removed. */
export function userMessage(err: OpenDepotError): string {
  if (!err.hint) return redactString(err.message);
  const separator = /[.!?:]$/.test(err.message) ? ' ' : '. ';
  return redactString(`${err.message}${separator}${err.hint}`);
}
