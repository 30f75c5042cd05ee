/**
 * Hostile zips for the upstream-cost tests (issue 10 §2): the overlapping-entries bomb, many
 * central-directory records that all point at one deflated entry of zeros. A reader that trusts
 * the central directory inflates `entries × inflatedBytes` (65,535 × 1 GiB = 64 TiB) from a file
 * of a few MB.
 */
import { Buffer } from 'node:buffer';
import { crc32, createDeflateRaw } from 'node:zlib';

/** Options of {@link makeOverlapZipBomb}. */
export interface OverlapZipBombOptions {
  /** Central-directory records, all pointing at the one local entry. Default 65,535. */
  entries?: number;
  /** Bytes of zeros the one entry inflates to. Default 1 GiB. */
  inflatedBytes?: number;
}

/** Builds the bomb in memory (about 1 MB of deflate output per GiB, plus ~56 bytes per record). */
export async function makeOverlapZipBomb(options: OverlapZipBombOptions = {}): Promise<Buffer> {
  const entries = options.entries ?? 65_535;
  const inflatedBytes = options.inflatedBytes ?? 1024 * 1024 * 1024;
  const { data, crc } = await deflateZeros(inflatedBytes);
  const name = Buffer.from('terraform-provider-bomb');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4); // version needed
  local.writeUInt16LE(0, 6); // flags
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(inflatedBytes >>> 0, 22);
  local.writeUInt16LE(name.length, 26);
  const records: Buffer[] = [];
  for (let i = 0; i < entries; i++) {
    // Names differ (f00000...), so no reader can fold them into one.
    const entryName = Buffer.from(`f${String(i).padStart(5, '0')}`);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0, 8);
    cd.writeUInt16LE(8, 10);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.length, 20);
    cd.writeUInt32LE(inflatedBytes >>> 0, 24);
    cd.writeUInt16LE(entryName.length, 28);
    cd.writeUInt32LE(0, 42); // every record: the same local header at offset 0
    records.push(cd, entryName);
  }
  const centralDirectory = Buffer.concat(records);
  const cdOffset = local.length + name.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries & 0xffff, 8);
  end.writeUInt16LE(entries & 0xffff, 10);
  end.writeUInt32LE(centralDirectory.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, name, data, centralDirectory, end]);
}

async function deflateZeros(bytes: number): Promise<{ data: Buffer; crc: number }> {
  const chunk = Buffer.alloc(1024 * 1024);
  const deflate = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (b: Buffer) => out.push(b));
  const done = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  let crc = 0;
  for (let left = bytes; left > 0; left -= chunk.length) {
    const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
    crc = crc32(part, crc);
    if (!deflate.write(part)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await done;
  return { data: Buffer.concat(out), crc };
}
