import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempStore, type TempStore } from './support/provider-temp-store.js';

describe('the provider store keeps services and tokens', () => {
  let temp: TempStore;
  let accountId: number;
  const clear = '0123456789abcdef0123456789abcdef';

  beforeEach(async () => {
    temp = await createTempStore({ clock: () => 1_700_000_000_000 });
    accountId = (await temp.store.users.create({ username: 'ws' })).id;
  });
  afterEach(() => temp.dispose());

  it('round-trips a service with its functions and authorised users', async () => {
    const service = await temp.store.services.create({
      shortname: 'wsblockmyexternalprivatefiles',
      name: 'Private files',
      functions: ['core_webservice_get_site_info', 'block_my_external_privatefiles_get_private_files_zip'],
      downloadFiles: true,
      authorisedUserIds: [accountId],
    });
    expect(service).toMatchObject({
      functions: ['block_my_external_privatefiles_get_private_files_zip', 'core_webservice_get_site_info'],
      downloadFiles: true,
      uploadFiles: false,
      restrictedUsers: true,
      enabled: true,
      authorisedUserIds: [accountId],
    });
    expect(await temp.store.services.getByShortname('wsblockmyexternalprivatefiles')).toEqual(service);
    const updated = await temp.store.services.update(service.id, {
      functions: ['core_webservice_get_site_info'],
    });
    expect(updated?.functions).toEqual(['core_webservice_get_site_info']);
    expect(updated?.authorisedUserIds).toEqual([accountId]);
    await expect(
      temp.store.services.create({ shortname: service.shortname, name: 'x' }),
    ).rejects.toMatchObject({
      field: 'shortname',
    });
  });

  it('stores only the SHA-256 of a token and finds it by the clear token', async () => {
    const service = await temp.store.services.create({ shortname: 's', name: 'S' });
    const token = await temp.store.tokens.create({
      token: clear,
      userId: accountId,
      serviceId: service.id,
      ipRestriction: ['10.0.0.0/8', '::1'],
      validUntil: 1_800_000_000,
    });
    expect(token).toMatchObject({
      tokenHash: createHash('sha256').update(clear).digest('hex'),
      hint: 'cdef',
      ipRestriction: ['10.0.0.0/8', '::1'],
      validUntil: 1_800_000_000,
      lastAccess: null,
    });
    expect(JSON.stringify(token)).not.toContain(clear);
    expect(await temp.store.tokens.findByToken(clear)).toEqual(token);
    expect(await temp.store.tokens.findByToken(clear.toUpperCase())).toBeNull();
  });

  it('records the last access, lists by owner and service, and deletes', async () => {
    const one = await temp.store.services.create({ shortname: 'one', name: 'One' });
    const two = await temp.store.services.create({ shortname: 'two', name: 'Two' });
    const a = await temp.store.tokens.create({ token: clear, userId: accountId, serviceId: one.id });
    await temp.store.tokens.create({ token: 'f'.repeat(32), userId: accountId, serviceId: two.id });
    await temp.store.tokens.touch(a.id, 1_700_000_123);
    expect((await temp.store.tokens.getById(a.id))?.lastAccess).toBe(1_700_000_123);
    expect(await temp.store.tokens.list({ serviceId: one.id })).toHaveLength(1);
    expect(await temp.store.tokens.list({ userId: accountId })).toHaveLength(2);
    expect(await temp.store.tokens.delete(a.id)).toBe(true);
    expect(await temp.store.tokens.findByToken(clear)).toBeNull();
  });

  it('deletes the tokens of a deleted service, and refuses tokens for unknown owners', async () => {
    const service = await temp.store.services.create({ shortname: 's', name: 'S' });
    await temp.store.tokens.create({ token: clear, userId: accountId, serviceId: service.id });
    await temp.store.services.delete(service.id);
    expect(await temp.store.tokens.list()).toEqual([]);
    await expect(
      temp.store.tokens.create({ token: clear, userId: 999, serviceId: service.id }),
    ).rejects.toMatchObject({ field: 'userId' });
  });
});
