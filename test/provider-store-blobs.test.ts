import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobTooLargeError } from '../src/provider/store/blob-store.js';
import { createTempStore, type TempStore } from './support/provider-temp-store.js';

const sha1 = (data: Buffer | string) => createHash('sha1').update(data).digest('hex');
const source = (...chunks: string[]) => Readable.from(chunks.map((c) => Buffer.from(c)));

describe('the blob store', () => {
  let temp: TempStore;
  beforeEach(async () => {
    temp = await createTempStore();
  });
  afterEach(() => temp.dispose());

  it('names a blob by the SHA-1 of its bytes in a two-level filedir, like Moodle', async () => {
    const blob = await temp.store.blobs.writeStream(source('hello ', 'world'));
    const hash = sha1('hello world');
    expect(blob).toEqual({ contenthash: hash, size: 11 });
    const path = join(temp.dataDir, 'filedir', hash.slice(0, 2), hash.slice(2, 4), hash);
    expect((await stat(path)).size).toBe(11);
  });

  it('stores equal content once', async () => {
    const first = await temp.store.blobs.writeStream(source('same bytes'));
    const second = await temp.store.blobs.writeStream(source('same', ' bytes'));
    expect(second.contenthash).toBe(first.contenthash);
    const all: string[] = [];
    for await (const hash of temp.store.blobs.list()) all.push(hash);
    expect(all).toEqual([first.contenthash]);
  });

  it('reads a byte range, ends included as in HTTP Range', async () => {
    const { contenthash } = await temp.store.blobs.writeStream(source('0123456789'));
    const range = await temp.store.blobs.openRead(contenthash, { start: 2, end: 5 });
    expect((await buffer(range as Readable)).toString()).toBe('2345');
    expect(await temp.store.blobs.openRead('0'.repeat(40))).toBeNull();
    expect(await temp.store.blobs.stat(contenthash)).toMatchObject({ size: 10 });
  });

  it('leaves no file when a write goes past its size limit', async () => {
    const big = Readable.from([Buffer.alloc(1000), Buffer.alloc(1000)]);
    await expect(temp.store.blobs.writeStream(big, { maxBytes: 1500 })).rejects.toBeInstanceOf(
      BlobTooLargeError,
    );
    const left: string[] = [];
    for await (const hash of temp.store.blobs.list()) left.push(hash);
    expect(left).toEqual([]);
    expect(await readdir(join(temp.dataDir, 'temp', 'blobs'))).toEqual([]);
  });

  it('leaves no file when the source fails midway', async () => {
    async function* failing() {
      yield Buffer.from('partial');
      throw new Error('client went away');
    }
    await expect(temp.store.blobs.writeStream(Readable.from(failing()))).rejects.toThrow('client went away');
    expect(await readdir(join(temp.dataDir, 'temp', 'blobs'))).toEqual([]);
  });

  it('keeps a blob that was rewritten since its version was read', async () => {
    const { contenthash } = await temp.store.blobs.writeStream(source('content'));
    const before = await temp.store.blobs.stat(contenthash);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await temp.store.blobs.writeStream(source('content'));
    expect(await temp.store.blobs.delete(contenthash, { ifVersion: before?.version })).toBe(false);
    expect(await temp.store.blobs.stat(contenthash)).not.toBeNull();
    const current = await temp.store.blobs.stat(contenthash);
    expect(await temp.store.blobs.delete(contenthash, { ifVersion: current?.version })).toBe(true);
    expect(await temp.store.blobs.stat(contenthash)).toBeNull();
  });
});
