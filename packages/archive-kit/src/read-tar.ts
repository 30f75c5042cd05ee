/** Reads a tar stream (plain or already gunzipped) into a {@link SpooledTree}. */
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { InputError } from '@opendepot/sdk';
import { printable, safeEntryPath, type TopLevelStripper } from './entry-path.ts';
import type { SpooledTree } from './tree.ts';

/** An entry's bytes (tar-stream's own stream type, used through these two members). */
type EntryStream = AsyncIterable<Uint8Array> & { resume(): unknown };

/** Reads every entry of the tar `input` into `tree`, stripping a top-level directory when asked. */
export async function readTar(input: Readable, tree: SpooledTree, stripper: TopLevelStripper | undefined, signal?: AbortSignal): Promise<void> {
  // The 'entry' event API: tar-stream's async iterator can lose entries when the input ends while
  // an entry is still being consumed.
  const extract = tar.extract();
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      extract.destroy();
      input.destroy();
      reject(err);
    };
    const onAbort = () => fail(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    extract.on('entry', (header, source, next) => {
      const stream = source as unknown as EntryStream;
      readEntry(header, stream, tree, stripper).then(
        () => next(),
        (err: unknown) => {
          stream.resume();
          fail(err);
        },
      );
    });
    extract.on('finish', () => {
      signal?.removeEventListener('abort', onAbort);
      if (!failed) resolve();
    });
    extract.on('error', fail);
    input.on('error', fail);
    if (signal?.aborted) onAbort();
    else input.pipe(extract as unknown as NodeJS.WritableStream);
  });
}

async function readEntry(header: tar.Header, stream: EntryStream, tree: SpooledTree, stripper: TopLevelStripper | undefined): Promise<void> {
  const path = treePath(header.name, stripper);
  switch (header.type) {
    case 'file':
    case 'contiguous-file':
      if (path === '') throw new InputError(`archive entry "${printable(header.name)}" is a file where the module root should be`);
      await tree.addFile(path, header.mode ?? 0o644, stream);
      return;
    case 'directory':
      if (path !== '') tree.addDirectory(path);
      break;
    case 'symlink':
      if (path !== '') tree.addLink('symlink', path, header.linkname ?? '');
      break;
    case 'link':
      addHardlink(tree, path, header.linkname ?? '', stripper);
      break;
    default:
      tree.warn(`left out "${printable(path || header.name)}": entries of type ${header.type ?? 'unknown'} are not supported`);
  }
  await drain(stream);
}

/** Consumes an entry's bytes that are not kept (tar-stream moves on only once they are read). */
async function drain(stream: EntryStream): Promise<void> {
  for await (const _ of stream) {
    // discarded
  }
}

function treePath(name: string, stripper: TopLevelStripper | undefined): string {
  const path = safeEntryPath(name);
  return stripper ? stripper.strip(path, name) : path;
}

// A hard link names another entry of the archive by its archive path.
function addHardlink(tree: SpooledTree, path: string, linkname: string, stripper: TopLevelStripper | undefined): void {
  if (path === '') return;
  let target: string;
  try {
    target = treePath(linkname, stripper);
  } catch {
    tree.warn(`left out hardlink "${printable(path)}": it points outside the module ("${printable(linkname)}")`);
    return;
  }
  tree.addLink('hardlink', path, target);
}
