/** Helpers of the module sources: archive file names and URLs fit for messages. */
import type { ArchiveSubject } from '@opendepot/sdk';

export { subjectSettings } from '@opendepot/archive-kit';

/** The file name a module archive is served as, e.g. `terraform-aws-vpc-1.2.0.zip`. */
export function moduleArchiveFilename(subject: ArchiveSubject, version: string, format: 'zip' | 'tar.gz'): string {
  return `${subject.name}-${version}.${format}`;
}

/** A URL fit for messages and logs: user and password replaced by `***`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1***@');
}

/** `value` when it is an https URL without credentials (an upstream's `source` field), else undefined. */
export function httpsUrlOrUndefined(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2048 || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  return url.protocol === 'https:' && url.username === '' && url.password === '' ? value : undefined;
}
