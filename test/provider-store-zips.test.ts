import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewGeneratedZip } from '../src/provider/store/repository.js';
import { createTempStore, type TempStore } from './support/provider-temp-store.js';

describe('the provider store keeps generated zips', () => {
  let temp: TempStore;
  let zip: (over?: Partial<NewGeneratedZip>) => NewGeneratedZip;

  beforeEach(async () => {
    temp = await createTempStore({ clock: () => 1_700_000_000_000 });
    const alice = await temp.store.users.create({ username: 'alice' });
    const ws = await temp.store.users.create({ username: 'ws' });
    zip = (over = {}) => ({
      contextid: 1003,
      itemid: 451539184,
      filename: 'myprivatefiles.zip',
      contenthash: 'c'.repeat(40),
      size: 10,
      ownerUserId: alice.id,
      requestedByUserId: ws.id,
      source: 'test',
      ...over,
    });
  });
  afterEach(() => temp.dispose());

  it('finds a zip by context, draft item and file name', async () => {
    const recorded = await temp.store.zips.record(zip());
    expect(recorded).toMatchObject({ filepath: '/', timecreated: 1_700_000_000 });
    expect(await temp.store.zips.find(1003, 451539184, 'myprivatefiles.zip')).toEqual(recorded);
    expect(await temp.store.zips.find(1003, 451539184, 'other.zip')).toBeNull();
    await expect(temp.store.zips.record(zip())).rejects.toMatchObject({ field: 'itemid' });
  });

  it('lists zips created before a cutoff, oldest first', async () => {
    await temp.store.zips.record(zip({ itemid: 1, timecreated: 300 }));
    await temp.store.zips.record(zip({ itemid: 2, timecreated: 100 }));
    await temp.store.zips.record(zip({ itemid: 3, timecreated: 500 }));
    expect((await temp.store.zips.listOlderThan(500)).map((z) => z.itemid)).toEqual([2, 1]);
  });

  it('does not delete a zip while a reader holds a lease, and does once it is released', async () => {
    const recorded = await temp.store.zips.record(zip());
    const lease = await temp.store.zips.acquireRead(recorded.id);
    expect(lease?.zip).toEqual(recorded);
    expect(await temp.store.zips.delete(recorded.id)).toBe(false);
    expect(await temp.store.isBlobReferenced(recorded.contenthash)).toBe(true);
    lease?.release();
    lease?.release();
    expect(temp.store.zips.isBeingRead(recorded.id)).toBe(false);
    expect(await temp.store.zips.delete(recorded.id)).toBe(true);
    expect(await temp.store.zips.acquireRead(recorded.id)).toBeNull();
  });
});
