import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProviderAdmin, type ProviderAdmin } from '../src/provider/provider-admin.js';
import {
  DEMO_ACCOUNT_USERNAME,
  DEMO_SERVICE_FUNCTIONS,
  DEMO_SERVICE_SHORTNAME,
  deterministicBytes,
  seedDemo,
} from '../src/provider/seed-demo.js';
import { buildPrivateFilesZip } from '../src/provider/zip-builder.js';
import { createTempStore, type TempStore } from './support/provider-temp-store.js';

describe('seedDemo', () => {
  let temp: TempStore;
  let admin: ProviderAdmin;
  beforeEach(async () => {
    temp = await createTempStore();
    admin = createProviderAdmin({ store: temp.store });
  });
  afterEach(() => temp.dispose());

  it('seeds alice with files, bob with none, and an account whose token works for the service', async () => {
    const seed = await seedDemo(admin, { siteName: 'Demo site' });
    expect(seed.createdUsers).toEqual(['alice', 'bob', DEMO_ACCOUNT_USERNAME]);

    const tree = await admin.listFiles('alice');
    expect(tree.files.map((f) => f.filename)).toEqual(['welcome.txt']);
    expect(tree.folders.map((f) => f.path)).toEqual(['/data/', '/notes/']);
    expect(tree.folders[1]?.folders.map((f) => f.path)).toEqual(['/notes/2024/']);
    expect(tree.folders[0]?.files[0]?.size).toBe(3_145_728);
    expect((await admin.listFiles('bob')).size).toBe(0);

    const token = await temp.store.tokens.findByToken(seed.token);
    const account = await temp.store.users.getById(token?.userId ?? 0);
    const service = await temp.store.services.getById(token?.serviceId ?? 0);
    expect(account).toMatchObject({
      username: DEMO_ACCOUNT_USERNAME,
      capabilities: { canRetrieveFilesFromOtherUsers: true, canCreateDraftUserFilesForOtherUsers: true },
    });
    expect(service).toMatchObject({
      shortname: DEMO_SERVICE_SHORTNAME,
      downloadFiles: true,
      restrictedUsers: true,
      authorisedUserIds: [account?.id],
    });
    expect([...(service?.functions ?? [])].sort()).toEqual([...DEMO_SERVICE_FUNCTIONS].sort());
  });

  it('is idempotent: a re-run keeps users and files and swaps the demo token', async () => {
    const first = await seedDemo(admin, { siteName: 'Demo site', binaryBytes: 1_000 });
    const filesBefore = await temp.store.files.list((await temp.store.users.getByUsername('alice'))?.id ?? 0);
    const second = await seedDemo(admin, { siteName: 'Demo site', binaryBytes: 1_000 });
    expect(second.createdUsers).toEqual([]);
    expect(await temp.store.files.list((await temp.store.users.getByUsername('alice'))?.id ?? 0)).toEqual(
      filesBefore,
    );
    expect(second.token).not.toBe(first.token);
    expect(await temp.store.tokens.findByToken(first.token)).toBeNull();
    expect(await temp.store.tokens.findByToken(second.token)).not.toBeNull();
    expect(await admin.listTokens({ username: DEMO_ACCOUNT_USERNAME })).toHaveLength(1);
  });

  it('reuses a pinned token on every run', async () => {
    const pinned = 'abcdef0123456789abcdef0123456789';
    await seedDemo(admin, { siteName: 'Demo', binaryBytes: 10, token: pinned });
    const again = await seedDemo(admin, { siteName: 'Demo', binaryBytes: 10, token: pinned });
    expect(again.token).toBe(pinned);
    expect(await admin.listTokens({ username: DEMO_ACCOUNT_USERNAME })).toHaveLength(1);
  });

  it('gives alice a zip and bob an empty area', async () => {
    await seedDemo(admin, { siteName: 'Demo', binaryBytes: 5_000 });
    const account = await temp.store.users.getByUsername(DEMO_ACCOUNT_USERNAME);
    const alice = await temp.store.users.getByUsername('alice');
    const bob = await temp.store.users.getByUsername('bob');
    if (!account || !alice || !bob) throw new Error('seed incomplete');
    expect((await buildPrivateFilesZip({ store: temp.store, user: alice, requestedBy: account })).kind).toBe(
      'created',
    );
    expect(await buildPrivateFilesZip({ store: temp.store, user: bob, requestedBy: account })).toEqual({
      kind: 'empty-area',
    });
  });

  it('generates the same binary bytes every time', async () => {
    const sha1 = async (size: number) =>
      createHash('sha1')
        .update(await buffer(deterministicBytes('seed', size)))
        .digest('hex');
    expect(await sha1(100_003)).toBe(await sha1(100_003));
    expect((await buffer(deterministicBytes('seed', 100_003))).length).toBe(100_003);
  });
});
