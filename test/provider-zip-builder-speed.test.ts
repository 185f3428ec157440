import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProviderAdmin, type ProviderAdmin } from '../src/provider/provider-admin.js';
import type { ProviderUser } from '../src/provider/store/repository.js';
import { useArchiverNativeCrc32 } from '../src/provider/use-archiver-native-crc32.js';
import { buildPrivateFilesZip } from '../src/provider/zip-builder.js';
import { uploadFiles } from './support/provider-seed-files.js';
import { createTempStore, type TempStore } from './support/provider-temp-store.js';
import { readZip } from './support/zip-read.js';

const TEXT = Buffer.from('Lecture notes: caching, deadlines and the slowest healthy site.\n'.repeat(2_000));
const RANDOM = randomBytes(300_000);

describe('buildPrivateFilesZip, quickly', () => {
  let temp: TempStore;
  let admin: ProviderAdmin;
  let alice: ProviderUser;
  let account: ProviderUser;

  beforeEach(async () => {
    temp = await createTempStore();
    admin = createProviderAdmin({ store: temp.store });
    alice = await temp.store.users.create({ username: 'alice' });
    account = await temp.store.users.create({ username: 'ws' });
    await uploadFiles(admin, 'alice', [
      { filepath: '/', filename: 'notes.txt', data: TEXT },
      { filepath: '/media/', filename: 'photo.jpg', data: RANDOM },
      { filepath: '/', filename: 'tiny.txt', data: Buffer.from('hi\n') },
    ]);
  });
  afterEach(() => temp.dispose());

  it("checksums entries with Node's CRC-32, which gives exactly the checksums of archiver's own", async () => {
    expect(useArchiverNativeCrc32()).toBe(true);
    let require = createRequire(import.meta.url);
    for (const step of ['archiver', 'zip-stream', 'compress-commons', 'crc32-stream']) {
      require = createRequire(require.resolve(step));
    }
    const { buf } = require('crc-32') as { buf: (data: Uint8Array, seed?: number) => number };
    expect(buf(Buffer.from('123456789')) >>> 0).toBe(0xcbf43926);
    expect(buf(RANDOM.subarray(1000), buf(RANDOM.subarray(0, 1000))) >>> 0).toBe(crc32(RANDOM));

    for (const compression of ['store', 'deflate'] as const) {
      const entries = await readZip(
        await temp.zipBytes(
          await buildPrivateFilesZip({ store: temp.store, user: alice, requestedBy: account, compression }),
        ),
      );
      const files = entries.filter((entry) => !entry.name.endsWith('/'));
      expect(files.map((entry) => entry.name).sort()).toEqual(['media/photo.jpg', 'notes.txt', 'tiny.txt']);
      for (const entry of files) expect(entry.crc32).toBe(crc32(entry.data));
    }
  });

  it('in deflate mode, stores the files that do not compress and deflates the others, every byte intact', async () => {
    const outcome = await buildPrivateFilesZip({
      store: temp.store,
      user: alice,
      requestedBy: account,
      compression: 'deflate',
    });
    const byName = new Map((await readZip(await temp.zipBytes(outcome))).map((entry) => [entry.name, entry]));
    expect(byName.get('notes.txt')?.compressionMethod).toBe(8);
    expect(byName.get('tiny.txt')?.compressionMethod).toBe(8);
    expect(byName.get('media/photo.jpg')?.compressionMethod).toBe(0);
    expect(byName.get('notes.txt')?.data.equals(TEXT)).toBe(true);
    expect(byName.get('media/photo.jpg')?.data.equals(RANDOM)).toBe(true);
    if (outcome.kind === 'created') expect(outcome.zip.size).toBeLessThan(RANDOM.length + TEXT.length / 10);
  });
});
