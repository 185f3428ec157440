import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProviderAdmin, type ProviderAdmin } from '../src/provider/provider-admin.js';
import { ChunkPool } from '../src/provider/store/chunk-pool.js';
import type { ProviderUser } from '../src/provider/store/repository.js';
import { buildPrivateFilesZip } from '../src/provider/zip-builder.js';
import { type SeedFile, uploadFiles } from './support/provider-seed-files.js';
import { createTempStore, type TempStore } from './support/provider-temp-store.js';
import { readZip } from './support/zip-read.js';

describe('ChunkPool', () => {
  it('uses a buffer again once exactly the chunk it lent is done', () => {
    const pool = new ChunkPool(8);
    const first = pool.take();
    const chunk = pool.lend(first, 5);
    expect(chunk.length).toBe(5);
    expect(pool.take()).not.toBe(first);
    pool.done(chunk);
    expect(pool.take()).toBe(first);
  });

  it('never takes back a buffer from a part or a copy of its chunk, nor twice', () => {
    const pool = new ChunkPool(8);
    const first = pool.take();
    const chunk = pool.lend(first, 8);
    pool.done(chunk.subarray(0, 4));
    pool.done(chunk.subarray(4));
    pool.done(Buffer.from(chunk));
    expect(pool.take()).not.toBe(first);

    const second = pool.take();
    const lent = pool.lend(second, 8);
    pool.done(lent);
    pool.done(lent);
    expect(pool.take()).toBe(second);
    expect(pool.take()).not.toBe(second);
  });

  it('takes back every buffer lent when told that all are done, up to the free buffers it keeps', () => {
    const pool = new ChunkPool(4, 2);
    const buffers = [pool.take(), pool.take(), pool.take()];
    for (const b of buffers) pool.lend(b, 4);
    pool.reclaimAll();
    const again = [pool.take(), pool.take(), pool.take()];
    expect(again.filter((b) => buffers.includes(b))).toHaveLength(2);
  });

  it('keeps a buffer that was taken but never lent', () => {
    const pool = new ChunkPool(4);
    const b = pool.take();
    pool.putBack(b);
    expect(pool.take()).toBe(b);
  });
});

describe('buildPrivateFilesZip with buffers used again', () => {
  let temp: TempStore;
  let admin: ProviderAdmin;
  let alice: ProviderUser;

  // Files of several 1 MiB chunks, text (deflated) and random (stored), interleaved: every buffer is
  // used for many chunks of many files, and any chunk overwritten too early would show.
  const text = (seed: number, size: number) => {
    const line = Buffer.from(`line ${seed}: lecture notes, deadlines, forums and quizzes\n`);
    const data = Buffer.alloc(size);
    for (let offset = 0; offset < size; offset += line.length) line.copy(data, offset);
    return data;
  };
  const FILES: SeedFile[] = [
    { filepath: '/', filename: 'a.txt', data: text(1, 3 * 1024 * 1024 + 123) },
    { filepath: '/', filename: 'b.bin', data: randomBytes(2 * 1024 * 1024 + 7) },
    { filepath: '/media/', filename: 'c.bin', data: randomBytes(5 * 1024 * 1024) },
    { filepath: '/media/', filename: 'd.txt', data: text(2, 2 * 1024 * 1024) },
    { filepath: '/notes/', filename: 'e.txt', data: text(3, 70_000) },
    { filepath: '/notes/', filename: 'f.bin', data: randomBytes(1024 * 1024) },
    { filepath: '/notes/', filename: 'g.txt', data: Buffer.from('tiny\n') },
  ];

  beforeEach(async () => {
    temp = await createTempStore();
    admin = createProviderAdmin({ store: temp.store });
    alice = await temp.store.users.create({ username: 'alice' });
    await uploadFiles(admin, 'alice', FILES);
  });
  afterEach(() => temp.dispose());

  for (const compression of ['store', 'deflate'] as const) {
    it(`keeps every byte of every file (${compression})`, async () => {
      for (let round = 0; round < 2; round++) {
        const entries = await readZip(
          await temp.zipBytes(
            await buildPrivateFilesZip({ store: temp.store, user: alice, requestedBy: alice, compression }),
          ),
        );
        for (const file of FILES) {
          const entry = entries.find((e) => e.name === `${file.filepath.slice(1)}${file.filename}`);
          expect(entry?.data.equals(file.data), entry?.name).toBe(true);
        }
      }
    });
  }

  it('reads a blob range into pooled buffers like an ordinary read', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 5);
    const { contenthash } = await temp.store.blobs.writeStream(Readable.from([data]));
    const pool = new ChunkPool(1024 * 1024);
    const whole = await temp.store.blobs.openRead(contenthash, { pool });
    expect((await buffer(whole as Readable)).equals(data)).toBe(true);
    const range = await temp.store.blobs.openRead(contenthash, { start: 1_000_000, end: 2_100_000, pool });
    expect((await buffer(range as Readable)).equals(data.subarray(1_000_000, 2_100_001))).toBe(true);
  });
});
