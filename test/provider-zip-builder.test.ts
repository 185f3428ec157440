import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProviderAdmin, type ProviderAdmin } from '../src/provider/provider-admin.js';
import type { ProviderUser } from '../src/provider/store/repository.js';
import { buildPrivateFilesZip, MissingBlobError, userContextId } from '../src/provider/zip-builder.js';
import { checkStoreConsistency } from './support/provider-blob-check.js';
import { type SeedFile, uploadFiles } from './support/provider-seed-files.js';
import { createTempStore, type TempStore } from './support/provider-temp-store.js';
import { readZip } from './support/zip-read.js';

const FILES: SeedFile[] = [
  { filepath: '/', filename: 'welcome.txt', data: Buffer.from('Welcome!\n') },
  { filepath: '/notes/', filename: 'todo.txt', data: Buffer.from('- read\n') },
  { filepath: '/notes/2024/', filename: 'lecture-1.md', data: Buffer.from('# Lecture 1\n') },
  {
    filepath: '/data/',
    filename: 'random.bin',
    data: Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251)),
  },
];

describe('buildPrivateFilesZip', () => {
  let temp: TempStore;
  let admin: ProviderAdmin;
  let alice: ProviderUser;
  let account: ProviderUser;

  beforeEach(async () => {
    temp = await createTempStore();
    admin = createProviderAdmin({ store: temp.store });
    alice = await temp.store.users.create({ username: 'alice' });
    account = await temp.store.users.create({ username: 'ws' });
  });
  afterEach(() => temp.dispose());

  it('zips exactly the user files, folders first as their own entries, stored uncompressed', async () => {
    await uploadFiles(admin, 'alice', FILES);
    await temp.store.users.create({ username: 'bob' });
    await uploadFiles(admin, 'bob', [{ filepath: '/', filename: 'not-alice.txt', data: Buffer.from('bob') }]);

    const entries = await readZip(
      await temp.zipBytes(
        await buildPrivateFilesZip({ store: temp.store, user: alice, requestedBy: account }),
      ),
    );

    expect(entries.map((e) => e.name)).toEqual([
      'welcome.txt',
      'data/',
      'data/random.bin',
      'notes/',
      'notes/todo.txt',
      'notes/2024/',
      'notes/2024/lecture-1.md',
    ]);
    for (const file of FILES) {
      const entry = entries.find((e) => e.name === `${file.filepath.slice(1)}${file.filename}`);
      expect(entry?.data.equals(file.data)).toBe(true);
    }
    expect(entries.every((e) => e.compressionMethod === 0)).toBe(true);
    expect(entries.filter((e) => e.isDirectory).every((e) => e.data.length === 0)).toBe(true);
  });

  it('records a draft zip for the requesting account with a 9-digit item id', async () => {
    await uploadFiles(admin, 'alice', FILES.slice(0, 1));
    const outcome = await buildPrivateFilesZip({ store: temp.store, user: alice, requestedBy: account });
    if (outcome.kind !== 'created') throw new Error('expected a zip');
    const { zip } = outcome;
    expect(zip).toMatchObject({
      contextid: userContextId(account.id),
      filepath: '/',
      filename: 'myprivatefiles.zip',
      ownerUserId: alice.id,
      requestedByUserId: account.id,
      source: 'block_my_external_privatefiles_get_private_files_zip',
    });
    expect(String(zip.itemid)).toMatch(/^[1-9]\d{8}$/);
    expect(await temp.store.zips.find(zip.contextid, zip.itemid, zip.filename)).toEqual(zip);
    expect((await temp.store.blobs.stat(zip.contenthash))?.size).toBe(zip.size);
  });

  it('makes a new draft item at each call', async () => {
    await uploadFiles(admin, 'alice', FILES.slice(0, 1));
    const first = await buildPrivateFilesZip({ store: temp.store, user: alice, requestedBy: account });
    const second = await buildPrivateFilesZip({ store: temp.store, user: alice, requestedBy: account });
    if (first.kind !== 'created' || second.kind !== 'created') throw new Error('expected zips');
    expect(second.zip.itemid).not.toBe(first.zip.itemid);
  });

  it('deflates when asked to', async () => {
    await uploadFiles(admin, 'alice', [
      { filepath: '/', filename: 'a.txt', data: Buffer.alloc(10_000, 'a') },
    ]);
    const outcome = await buildPrivateFilesZip({
      store: temp.store,
      user: alice,
      requestedBy: account,
      compression: 'deflate',
    });
    const [entry] = await readZip(await temp.zipBytes(outcome));
    expect(entry?.compressionMethod).toBe(8);
    expect(entry?.data.equals(Buffer.alloc(10_000, 'a'))).toBe(true);
    if (outcome.kind === 'created') expect(outcome.zip.size).toBeLessThan(1_000);
  });

  it('answers an empty area, and stores nothing, when the user has no files', async () => {
    const outcome = await buildPrivateFilesZip({ store: temp.store, user: alice, requestedBy: account });
    expect(outcome).toEqual({ kind: 'empty-area' });
    expect((await checkStoreConsistency(temp.store, temp.dataDir)).blobCount).toBe(0);
  });

  it('fails without a trace when a zip goes past its size limit', async () => {
    await uploadFiles(admin, 'alice', FILES);
    const blobsBefore = (await checkStoreConsistency(temp.store, temp.dataDir)).blobCount;
    await expect(
      buildPrivateFilesZip({ store: temp.store, user: alice, requestedBy: account, maxBytes: 1_000 }),
    ).rejects.toMatchObject({ name: 'BlobTooLargeError' });
    expect((await checkStoreConsistency(temp.store, temp.dataDir)).blobCount).toBe(blobsBefore);
    expect(await temp.store.zips.listOlderThan(Number.MAX_SAFE_INTEGER)).toEqual([]);
  });

  it('refuses to build a zip missing a file whose blob is gone', async () => {
    await uploadFiles(admin, 'alice', FILES.slice(0, 2));
    const [file] = await temp.store.files.list(alice.id);
    await temp.store.blobs.delete(file?.contenthash ?? '');
    await expect(
      buildPrivateFilesZip({ store: temp.store, user: alice, requestedBy: account }),
    ).rejects.toBeInstanceOf(MissingBlobError);
    expect(await temp.store.zips.listOlderThan(Number.MAX_SAFE_INTEGER)).toEqual([]);
  });
});
