/** SHA256SUMS files: `<64 hex>  <file name>` lines, as `sha256sum` writes them (protocol.md §3.5). */
import { Buffer } from 'node:buffer';
import { IntegrityError } from '@opendepot/sdk';

const LINE = /^([0-9a-fA-F]{64})\s+\*?(\S+)$/;

/** File name → lower-case hex SHA-256, from the bytes of a SHA256SUMS file. */
export function parseShasums(bytes: Uint8Array, source: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const raw of Buffer.from(bytes).toString('utf8').split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const match = LINE.exec(line);
    if (!match?.[1] || !match[2]) throw new IntegrityError(`${source} has a line that is not "<sha256>  <file>": ${JSON.stringify(line.slice(0, 200))}`);
    const previous = sums.get(match[2]);
    const hash = match[1].toLowerCase();
    if (previous !== undefined && previous !== hash) throw new IntegrityError(`${source} lists ${match[2]} twice with different checksums`);
    sums.set(match[2], hash);
  }
  return sums;
}

/** The checksum `sums` gives for `filename`; IntegrityError when it has none. */
export function checksumFor(sums: Map<string, string>, filename: string, source: string): string {
  const hash = sums.get(filename);
  if (hash === undefined) throw new IntegrityError(`${source} has no SHA-256 checksum for ${filename}`);
  return hash;
}
