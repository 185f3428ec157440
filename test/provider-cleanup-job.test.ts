import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCleanupJob, runProviderCleanup } from '../src/provider/cleanup-job.js';
import type { GeneratedZip, ProviderUser } from '../src/provider/store/repository.js';
import { checkStoreConsistency } from './support/provider-blob-check.js';
import { createTempStore, type TempStore } from './support/provider-temp-store.js';

const HOUR = 3_600_000;

describe('the provider cleanup job', () => {
  let temp: TempStore;
  let now: number;
  let alice: ProviderUser;
  let account: ProviderUser;
  let itemid = 100_000_000;

  beforeEach(async () => {
    now = 1_800_000_000_000;
    temp = await createTempStore({ clock: () => now });
    alice = await temp.store.users.create({ username: 'alice' });
    account = await temp.store.users.create({ username: 'ws' });
  });
  afterEach(() => temp.dispose());

  async function zipCreatedHoursAgo(
    hours: number,
    content = `zip made ${hours} h ago`,
  ): Promise<GeneratedZip> {
    const blob = await temp.store.blobs.writeStream(Readable.from([Buffer.from(content)]));
    return temp.store.zips.record({
      contextid: 1000 + account.id,
      itemid: itemid++,
      filename: 'myprivatefiles.zip',
      ...blob,
      ownerUserId: alice.id,
      requestedByUserId: account.id,
      source: 'test',
      timecreated: Math.floor((now - hours * HOUR) / 1000),
    });
  }

  it('deletes zips older than the maximum age, keeps fresh ones, and frees their blobs', async () => {
    const old = await zipCreatedHoursAgo(25);
    const fresh = await zipCreatedHoursAgo(1);
    const result = await runProviderCleanup({ store: temp.store, maxAgeMs: 24 * HOUR, orphanGraceMs: 0 });
    expect(result).toEqual({
      deletedZips: 1,
      skippedZipsUnderRead: 0,
      freedBlobs: 1,
      freedBytes: old.size,
    });
    expect(await temp.store.zips.getById(old.id)).toBeNull();
    expect(await temp.store.zips.getById(fresh.id)).toEqual(fresh);
    expect(await temp.store.blobs.stat(old.contenthash)).toBeNull();
    expect(await temp.store.blobs.stat(fresh.contenthash)).not.toBeNull();
  });

  it('frees orphan blobs but keeps blobs private files still point to', async () => {
    const orphan = await temp.store.blobs.writeStream(Readable.from([Buffer.from('nobody points here')]));
    const kept = await temp.store.blobs.writeStream(Readable.from([Buffer.from('a private file')]));
    await temp.store.files.put({
      userId: alice.id,
      filepath: '/',
      filename: 'f.txt',
      mimetype: 'text/plain',
      ...kept,
    });
    const result = await runProviderCleanup({ store: temp.store, orphanGraceMs: 0 });
    expect(result).toMatchObject({ freedBlobs: 1, freedBytes: orphan.size });
    expect(await temp.store.blobs.stat(orphan.contenthash)).toBeNull();
    expect(await temp.store.blobs.stat(kept.contenthash)).not.toBeNull();
  });

  it('keeps a blob shared by an old zip and a private file', async () => {
    const zip = await zipCreatedHoursAgo(48, 'shared content');
    await temp.store.files.put({
      userId: alice.id,
      filepath: '/',
      filename: 'same.zip',
      mimetype: 'application/zip',
      contenthash: zip.contenthash,
      size: zip.size,
    });
    const result = await runProviderCleanup({ store: temp.store, orphanGraceMs: 0 });
    expect(result).toMatchObject({ deletedZips: 1, freedBlobs: 0 });
    expect((await checkStoreConsistency(temp.store, temp.dataDir)).danglingRows).toEqual([]);
  });

  it('keeps recently written orphans within the grace period', async () => {
    const orphan = await temp.store.blobs.writeStream(Readable.from([Buffer.from('just uploaded')]));
    const result = await runProviderCleanup({ store: temp.store });
    expect(result.freedBlobs).toBe(0);
    expect(await temp.store.blobs.stat(orphan.contenthash)).not.toBeNull();
  });

  it('does not delete a zip under read, and takes it at the next run once released', async () => {
    const zip = await zipCreatedHoursAgo(30);
    const lease = await temp.store.zips.acquireRead(zip.id);
    const during = await runProviderCleanup({ store: temp.store, orphanGraceMs: 0 });
    expect(during).toMatchObject({ deletedZips: 0, skippedZipsUnderRead: 1, freedBlobs: 0 });
    expect(await temp.store.blobs.stat(zip.contenthash)).not.toBeNull();
    lease?.release();
    const after = await runProviderCleanup({ store: temp.store, orphanGraceMs: 0 });
    expect(after).toMatchObject({ deletedZips: 1, freedBlobs: 1 });
  });

  it('keeps the blob of a zip under read even when its owner is deleted meanwhile', async () => {
    const zip = await zipCreatedHoursAgo(2);
    const lease = await temp.store.zips.acquireRead(zip.id);
    await temp.store.users.delete(alice.id);
    expect(await runProviderCleanup({ store: temp.store, orphanGraceMs: 0 })).toMatchObject({
      freedBlobs: 0,
    });
    lease?.release();
    expect(await runProviderCleanup({ store: temp.store, orphanGraceMs: 0 })).toMatchObject({
      freedBlobs: 1,
    });
  });

  it('shares one run between concurrent runOnce calls', async () => {
    await zipCreatedHoursAgo(30);
    const job = createCleanupJob({ store: temp.store, orphanGraceMs: 0 });
    const [a, b] = await Promise.all([job.runOnce(), job.runOnce()]);
    expect(a).toBe(b);
    expect(a.deletedZips).toBe(1);
  });

  it('runs on its cron schedule until stopped', async () => {
    const zip = await zipCreatedHoursAgo(30);
    const job = createCleanupJob({ store: temp.store, cron: '* * * * * *' });
    job.start();
    try {
      const deadline = Date.now() + 3_000;
      while ((await temp.store.zips.getById(zip.id)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await temp.store.zips.getById(zip.id)).toBeNull();
    } finally {
      await job.stop();
    }
  });

  it('refuses an invalid cron expression', () => {
    expect(() => createCleanupJob({ store: temp.store, cron: 'every hour' })).toThrow(/cron/);
  });
});
