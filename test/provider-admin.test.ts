import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyPassword } from '../src/provider/password.js';
import { createProviderAdmin, type ProviderAdmin } from '../src/provider/provider-admin.js';
import { uploadFiles } from './support/provider-seed-files.js';
import { createTempStore, type TempStore } from './support/provider-temp-store.js';

describe('the provider management service', () => {
  let temp: TempStore;
  let admin: ProviderAdmin;
  beforeEach(async () => {
    temp = await createTempStore();
    admin = createProviderAdmin({ store: temp.store, orphanGraceMs: 0 });
  });
  afterEach(() => temp.dispose());

  it('creates and updates users without ever showing the password hash', async () => {
    const created = await admin.createUser({
      username: 'carol',
      firstname: 'Carol',
      password: 'correct horse',
    });
    expect(created).toMatchObject({ username: 'carol', firstname: 'Carol', hasPassword: true });
    expect(created).not.toHaveProperty('passwordHash');
    const stored = await temp.store.users.getByUsername('carol');
    expect(await verifyPassword('correct horse', stored?.passwordHash ?? '')).toBe(true);
    const updated = await admin.updateUser('carol', {
      newUsername: 'caroline',
      suspended: true,
      capabilities: { canCreateDraftUserFilesForOtherUsers: true },
      password: null,
    });
    expect(updated).toMatchObject({
      username: 'caroline',
      suspended: true,
      hasPassword: false,
      capabilities: { canRetrieveFilesFromOtherUsers: false, canCreateDraftUserFilesForOtherUsers: true },
    });
  });

  it('normalises folder paths and stores the bytes, with a MIME type from the name', async () => {
    await admin.createUser({ username: 'alice' });
    const file = await admin.uploadPrivateFile({
      username: 'alice',
      filepath: 'notes/2024',
      filename: 'lecture.md',
      content: Readable.from([Buffer.from('# hello')]),
    });
    expect(file).toMatchObject({
      filepath: '/notes/2024/',
      filename: 'lecture.md',
      size: 7,
      mimetype: 'text/markdown',
    });
    const stream = await temp.store.blobs.openRead(file.contenthash);
    expect((await buffer(stream as Readable)).toString()).toBe('# hello');
  });

  it('lists a private area as a tree with folder sizes', async () => {
    await admin.createUser({ username: 'alice' });
    await uploadFiles(admin, 'alice', [
      { filepath: '/', filename: 'a.txt', data: Buffer.alloc(1) },
      { filepath: '/notes/', filename: 'b.txt', data: Buffer.alloc(10) },
      { filepath: '/notes/2024/', filename: 'c.txt', data: Buffer.alloc(100) },
      { filepath: '/archive/', filename: 'd.txt', data: Buffer.alloc(1000) },
    ]);
    const tree = await admin.listFiles('alice');
    expect(tree.size).toBe(1111);
    expect(tree.files.map((f) => f.filename)).toEqual(['a.txt']);
    expect(tree.folders.map((f) => [f.path, f.size])).toEqual([
      ['/archive/', 1000],
      ['/notes/', 110],
    ]);
    expect(tree.folders[1]?.folders.map((f) => [f.name, f.path, f.size])).toEqual([
      ['2024', '/notes/2024/', 100],
    ]);
  });

  it('deletes a user with their files, and the cleanup then frees the blobs', async () => {
    await admin.createUser({ username: 'alice' });
    await uploadFiles(admin, 'alice', [
      { filepath: '/', filename: 'a.txt', data: Buffer.from('only alice has this') },
    ]);
    await admin.deleteUser('alice');
    expect(await admin.getUser('alice')).toBeNull();
    expect(await admin.runCleanup()).toMatchObject({ freedBlobs: 1, freedBytes: 19 });
  });

  it('returns a new token once in clear, then lists it only masked', async () => {
    await admin.createUser({ username: 'ws' });
    await admin.createService({ shortname: 'svc', name: 'Service', authorisedUsernames: ['ws'] });
    const validUntil = new Date(Date.now() + 86_400_000);
    const { token, view } = await admin.createWebServiceToken({
      username: 'ws',
      service: 'svc',
      ipRestriction: ['127.0.0.1', '10.0.0.0/8', '192.168.1.1-20'],
      validUntil,
    });
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(view).toMatchObject({
      masked: `••••…${token.slice(-4)}`,
      username: 'ws',
      service: 'svc',
      validUntil: Math.floor(validUntil.getTime() / 1000),
    });
    const listed = await admin.listTokens({ username: 'ws' });
    expect(listed).toEqual([view]);
    expect(JSON.stringify(listed)).not.toContain(token);
    expect((await temp.store.tokens.findByToken(token))?.id).toBe(view.id);
    await admin.revokeToken(view.id);
    expect(await temp.store.tokens.findByToken(token)).toBeNull();
  });

  it('updates a service, replacing its lists', async () => {
    await admin.createUser({ username: 'ws' });
    await admin.createService({
      shortname: 'svc',
      name: 'Service',
      functions: ['core_webservice_get_site_info'],
    });
    const updated = await admin.updateService('svc', { downloadFiles: true, authorisedUsernames: ['ws'] });
    expect(updated).toMatchObject({ downloadFiles: true, functions: ['core_webservice_get_site_info'] });
    expect(updated.authorisedUserIds).toHaveLength(1);
  });
});
