import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ZipArchive } from 'archiver';
import { describe, expect, it } from 'vitest';
import { useArchiverWholeHeaders } from '../src/provider/use-archiver-whole-headers.js';
import { readZip } from './support/zip-read.js';

const SMALL = Array.from({ length: 200 }, (_, i) => Buffer.from(`file ${i}\n`.repeat(1 + (i % 7))));
const LARGE = randomBytes(3 * 1024 * 1024 + 11);

/** A zip of 200 small entries (streams), a folder and a large entry, and the chunks the archive emitted. */
async function zipOf(options: { store: boolean }): Promise<{ zip: Buffer; chunks: number }> {
  const archive = new ZipArchive(options.store ? { store: true } : { zlib: { level: 1 } });
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    archive.once('end', resolve);
    archive.once('error', reject);
  });
  const date = new Date('2024-05-01T10:00:00Z');
  archive.append('', { name: 'folder/', type: 'directory', date });
  SMALL.forEach((data, i) => {
    archive.append(Readable.from([data]), { name: `folder/small-${i}.txt`, date });
  });
  archive.append(Readable.from([LARGE.subarray(0, 1024 * 1024), LARGE.subarray(1024 * 1024)]), {
    name: 'large.bin',
    date,
  });
  await archive.finalize();
  await ended;
  return { zip: Buffer.concat(chunks), chunks: chunks.length };
}

describe("archiver's zip headers written whole", () => {
  for (const store of [true, false]) {
    it(`gives a zip whose every entry reads back intact, from a few chunks per entry (${store ? 'stored' : 'deflated'})`, async () => {
      expect(await useArchiverWholeHeaders()).toBe(true);
      const { zip, chunks } = await zipOf({ store });
      const entries = await readZip(zip);
      expect(entries.map((e) => e.name)).toEqual([
        'folder/',
        ...SMALL.map((_, i) => `folder/small-${i}.txt`),
        'large.bin',
      ]);
      SMALL.forEach((data, i) => {
        expect(entries[i + 1]?.data.equals(data)).toBe(true);
      });
      expect(entries.at(-1)?.data.equals(LARGE)).toBe(true);
      // Field by field, archiver writes about 35 chunks per entry (local header, data descriptor,
      // central header); whole, a handful.
      expect(chunks).toBeLessThan(SMALL.length * 6);
    });
  }

  it('is idempotent', async () => {
    expect(await useArchiverWholeHeaders()).toBe(true);
    expect(await useArchiverWholeHeaders()).toBe(true);
  });
});
