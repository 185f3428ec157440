import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PutPrivateFile } from '../src/provider/store/repository.js';
import { createTempStore, type TempStore } from './support/provider-temp-store.js';

describe('the provider store keeps private files', () => {
  let temp: TempStore;
  let now = 1_700_000_000_000;
  let userId: number;
  const file = (over: Partial<PutPrivateFile> = {}): PutPrivateFile => ({
    userId,
    filepath: '/',
    filename: 'a.txt',
    size: 3,
    mimetype: 'text/plain',
    contenthash: 'a'.repeat(40),
    ...over,
  });

  beforeEach(async () => {
    temp = await createTempStore({ clock: () => now });
    userId = (await temp.store.users.create({ username: 'alice' })).id;
  });
  afterEach(() => temp.dispose());

  it('lists files ordered by folder then name', async () => {
    await temp.store.files.put(file({ filepath: '/notes/2024/', filename: 'b.md' }));
    await temp.store.files.put(file({ filepath: '/notes/', filename: 'z.txt' }));
    await temp.store.files.put(file({ filename: 'b.txt' }));
    await temp.store.files.put(file({ filename: 'a.txt' }));
    const listed = (await temp.store.files.list(userId)).map((f) => `${f.filepath}${f.filename}`);
    expect(listed).toEqual(['/a.txt', '/b.txt', '/notes/z.txt', '/notes/2024/b.md']);
  });

  it('replaces the file at the same path, keeping its creation time', async () => {
    const first = await temp.store.files.put(file());
    now += 60_000;
    const second = await temp.store.files.put(file({ size: 9, contenthash: 'b'.repeat(40) }));
    expect(second).toMatchObject({ id: first.id, size: 9, contenthash: 'b'.repeat(40) });
    expect(second.timecreated).toBe(first.timecreated);
    expect(second.timemodified).toBe(first.timemodified + 60);
    expect(await temp.store.files.list(userId)).toHaveLength(1);
  });

  it('sums the sizes of a user area', async () => {
    expect(await temp.store.files.totalSize(userId)).toBe(0);
    await temp.store.files.put(file({ filename: 'one', size: 10 }));
    await temp.store.files.put(file({ filename: 'two', size: 32 }));
    expect(await temp.store.files.totalSize(userId)).toBe(42);
  });

  it('deletes one file and says whether there was one', async () => {
    await temp.store.files.put(file());
    expect(await temp.store.files.delete(userId, '/', 'a.txt')).toBe(true);
    expect(await temp.store.files.delete(userId, '/', 'a.txt')).toBe(false);
    expect(await temp.store.files.get(userId, '/', 'a.txt')).toBeNull();
  });

  it('refuses folder paths that are not normalised, and unknown users', async () => {
    await expect(temp.store.files.put(file({ filepath: 'notes/' }))).rejects.toMatchObject({
      field: 'filepath',
    });
    await expect(temp.store.files.put(file({ filepath: '/notes' }))).rejects.toMatchObject({
      field: 'filepath',
    });
    await expect(temp.store.files.put(file({ filename: 'a/b' }))).rejects.toMatchObject({
      field: 'filename',
    });
    await expect(temp.store.files.put(file({ userId: 999 }))).rejects.toMatchObject({ field: 'userId' });
  });
});
