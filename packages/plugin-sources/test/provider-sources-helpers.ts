/** Shared by the provider source tests: reading bodies, expecting failures, a quiet logger. */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import * as assert from 'uvu/assert';
import { isOpenDepotError, type ArchiveSource, type ErrorCode, type Logger, type OpenDepotError } from '@opendepot/sdk';
import { HashicorpReleasesSource, RegistryProviderSource, type ProviderSourceOptions } from '../src/providers/index.ts';

/** The provider source of `kind`, made directly (the plugins make them the same way). */
export function createProviderSource(kind: 'hashicorp-releases' | 'registry', options: ProviderSourceOptions = {}): ArchiveSource {
  return kind === 'registry' ? new RegistryProviderSource(options) : new HashicorpReleasesSource(options);
}

/** All bytes of a body. */
export async function readBody(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Lower-case hex SHA-256. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The OpenDepot error `promise` rejects with; fails the test when it resolves or rejects with anything else. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<OpenDepotError> {
  let outcome: unknown;
  try {
    await promise;
  } catch (err) {
    outcome = err;
  }
  if (outcome === undefined) assert.unreachable(`expected a ${code} error, but it succeeded`);
  if (!isOpenDepotError(outcome, code)) assert.unreachable(`expected a ${code} error, got ${String((outcome as Error)?.stack ?? outcome)}`);
  return outcome as OpenDepotError;
}

/** A logger that keeps what it is told. */
export function memoryLogger(): Logger & { lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, ...(fields ? { fields } : {}) });
  const logger = { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger };
  return logger;
}
