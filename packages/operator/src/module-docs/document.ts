/**
 * Documenting a module version: its archive is unpacked (with the safe reader) into a temporary
 * directory and described, and the documentation is kept in storage beside the archive at its
 * derived key. A version stored before documentation existed is documented from its stored
 * archive on its next verification.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isOpenDepotError, type StorageBackend } from '@opendepot/sdk';
import { moduleDocsKey, type DocsSummary, type ModuleDocs } from '@opendepot/core';
import { spoolHashed, unpackArchive } from '@opendepot/archive-kit';
import { extractModuleDocs } from './extract.ts';
import type { HclParser } from './hcl-parser.ts';

/** Where and how documentation is made. */
export interface DocumentOptions {
  parser: HclParser;
  signal: AbortSignal;
  spoolDir?: string;
}

/** The documentation of the module archive at `archivePath`. */
export async function documentArchive(archivePath: string, format: 'zip' | 'tar.gz', options: DocumentOptions): Promise<ModuleDocs> {
  const work = await mkdtemp(join(options.spoolDir ?? tmpdir(), 'opendepot-docs-'));
  try {
    const dir = join(work, 'module');
    await mkdir(dir);
    // Documentation reads the module's root files only (README, *.tf, *.tf.json).
    await unpackArchive(createReadStream(archivePath), { from: format, dir, signal: options.signal, include: (path) => !path.includes('/') });
    return await extractModuleDocs(dir, options.parser);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** What status holds of `docs`. */
export function docsSummary(docs: ModuleDocs): DocsSummary {
  return {
    ...(docs.description !== undefined && { description: docs.description }),
    readme: docs.readme !== undefined,
    inputs: docs.inputs.length,
    outputs: docs.outputs.length,
    problems: docs.problems.length,
  };
}

/** Keeps `docs` beside the archive at `storageKey`. */
export async function storeModuleDocs(storage: StorageBackend, storageKey: string, docs: ModuleDocs, signal: AbortSignal): Promise<void> {
  const body = Buffer.from(`${JSON.stringify(docs)}\n`);
  await storage.put(moduleDocsKey(storageKey), Readable.from([body]), { signal, size: body.byteLength, contentType: 'application/json' });
}

/**
 * Documents an archive already in storage when its documentation is missing (stored before this
 * existed, or lost); undefined when it is there already.
 */
export async function documentStoredIfMissing(storage: StorageBackend, storageKey: string, format: 'zip' | 'tar.gz', options: DocumentOptions): Promise<ModuleDocs | undefined> {
  try {
    await storage.stat(moduleDocsKey(storageKey), { signal: options.signal });
    return undefined;
  } catch (err) {
    if (!isOpenDepotError(err, 'not_found')) throw err;
  }
  const work = await mkdtemp(join(options.spoolDir ?? tmpdir(), 'opendepot-docs-'));
  try {
    const { body } = await storage.get(storageKey, { signal: options.signal });
    const archivePath = join(work, `archive.${format}`);
    await spoolHashed(body, archivePath, options.signal);
    const docs = await documentArchive(archivePath, format, { ...options, spoolDir: work });
    await storeModuleDocs(storage, storageKey, docs, options.signal);
    return docs;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
