import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { ProviderStore } from '../../src/provider/store/repository.js';
import { createSqliteStore, type SqliteStoreOptions } from '../../src/provider/store/sqlite-store.js';
import type { PrivateFilesZipOutcome } from '../../src/provider/zip-builder.js';

export interface TempStore {
  readonly store: ProviderStore;
  readonly dataDir: string;
  /** Closes the store and reopens it on the same directory, as a restart does. */
  reopen(options?: Omit<SqliteStoreOptions, 'dataDir'>): Promise<ProviderStore>;
  /** The bytes of the zip a build created (throws for any other outcome). */
  zipBytes(outcome: PrivateFilesZipOutcome): Promise<Buffer>;
  dispose(): Promise<void>;
}

/** A store in a fresh temp directory; `dispose` closes it and removes the directory. */
export async function createTempStore(options: Omit<SqliteStoreOptions, 'dataDir'> = {}): Promise<TempStore> {
  const dataDir = await mkdtemp(join(tmpdir(), 'provider-store-'));
  let store = await createSqliteStore({ ...options, dataDir });
  return {
    get store() {
      return store;
    },
    dataDir,
    async reopen(reopenOptions = options) {
      await store.close();
      store = await createSqliteStore({ ...reopenOptions, dataDir });
      return store;
    },
    async zipBytes(outcome) {
      if (outcome.kind !== 'created') throw new Error(`expected a zip, got ${outcome.kind}`);
      return buffer((await store.blobs.openRead(outcome.zip.contenthash)) as Readable);
    },
    async dispose() {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
