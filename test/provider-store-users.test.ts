import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreConflictError, StoreInvariantError } from '../src/provider/store/repository.js';
import { createTempStore, type TempStore } from './support/provider-temp-store.js';

describe('the provider store keeps users', () => {
  let temp: TempStore;
  beforeEach(async () => {
    temp = await createTempStore({ clock: () => 1_700_000_000_000 });
  });
  afterEach(() => temp.dispose());

  it('returns a created user with defaults, by id and by username', async () => {
    const created = await temp.store.users.create({
      username: 'alice',
      firstname: 'Alice',
      email: 'a@example.com',
    });
    expect(created).toMatchObject({
      username: 'alice',
      firstname: 'Alice',
      lastname: '',
      lang: 'en',
      suspended: false,
      passwordHash: null,
      capabilities: { canRetrieveFilesFromOtherUsers: false, canCreateDraftUserFilesForOtherUsers: false },
      timecreated: 1_700_000_000,
    });
    expect(await temp.store.users.getById(created.id)).toEqual(created);
    expect(await temp.store.users.getByUsername('alice')).toEqual(created);
  });

  it('matches usernames exactly, as Moodle does: ALICE and " alice " are unknown', async () => {
    await temp.store.users.create({ username: 'alice' });
    expect(await temp.store.users.getByUsername('ALICE')).toBeNull();
    expect(await temp.store.users.getByUsername('Alice')).toBeNull();
    expect(await temp.store.users.getByUsername(' alice ')).toBeNull();
  });

  it('refuses a username that is not lower case and trimmed', async () => {
    await expect(temp.store.users.create({ username: 'ALICE' })).rejects.toBeInstanceOf(StoreInvariantError);
    await expect(temp.store.users.create({ username: ' bob' })).rejects.toMatchObject({ field: 'username' });
  });

  it('refuses a taken username with a conflict naming the field', async () => {
    await temp.store.users.create({ username: 'alice' });
    const attempt = temp.store.users.create({ username: 'alice' });
    await expect(attempt).rejects.toBeInstanceOf(StoreConflictError);
    await expect(attempt).rejects.toMatchObject({ field: 'username' });
  });

  it('updates only the given fields and keeps the survivors', async () => {
    const user = await temp.store.users.create({ username: 'ws', passwordHash: 'x' });
    const updated = await temp.store.users.update(user.id, {
      suspended: true,
      capabilities: { canRetrieveFilesFromOtherUsers: true },
    });
    expect(updated).toMatchObject({
      username: 'ws',
      suspended: true,
      passwordHash: 'x',
      capabilities: { canRetrieveFilesFromOtherUsers: true, canCreateDraftUserFilesForOtherUsers: false },
    });
    expect(await temp.store.users.update(9999, { firstname: 'nobody' })).toBeNull();
  });

  it('deletes a user with their files, tokens and service authorisations', async () => {
    const alice = await temp.store.users.create({ username: 'alice' });
    const service = await temp.store.services.create({
      shortname: 'svc',
      name: 'Service',
      authorisedUserIds: [alice.id],
    });
    await temp.store.files.put({
      userId: alice.id,
      filepath: '/',
      filename: 'a.txt',
      size: 1,
      mimetype: 'text/plain',
      contenthash: 'a'.repeat(40),
    });
    await temp.store.tokens.create({ token: '0'.repeat(32), userId: alice.id, serviceId: service.id });
    expect(await temp.store.users.delete(alice.id)).toBe(true);
    expect(await temp.store.users.getById(alice.id)).toBeNull();
    expect(await temp.store.files.list(alice.id)).toEqual([]);
    expect(await temp.store.tokens.list()).toEqual([]);
    expect((await temp.store.services.getById(service.id))?.authorisedUserIds).toEqual([]);
    expect(await temp.store.users.delete(alice.id)).toBe(false);
  });

  it('finds users by e-mail whatever its case, and lists them by id', async () => {
    await temp.store.users.create({ username: 'alice', email: 'Alice@Example.com' });
    await temp.store.users.create({ username: 'bob' });
    expect((await temp.store.users.listByEmail('alice@example.com')).map((u) => u.username)).toEqual([
      'alice',
    ]);
    expect((await temp.store.users.list()).map((u) => u.username)).toEqual(['alice', 'bob']);
  });

  it('keeps users across a restart', async () => {
    const alice = await temp.store.users.create({ username: 'alice' });
    const store = await temp.reopen();
    expect(await store.users.getByUsername('alice')).toEqual(alice);
  });
});
