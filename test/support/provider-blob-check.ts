import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProviderStore } from '../../src/provider/store/repository.js';

export interface StoreConsistency {
  /** Blobs whose bytes do not hash to their name (a half-written file). */
  readonly corruptBlobs: string[];
  /** Rows (files and zips) whose blob is missing. */
  readonly danglingRows: string[];
  /** Entries under filedir that are not blobs (e.g. a temp file). */
  readonly strayFiles: string[];
  readonly blobCount: number;
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const paths: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) paths.push(...(await walk(path)));
    else paths.push(path);
  }
  return paths;
}

/** Checks what a crash must never leave: corrupt or stray blobs, rows without their blob. */
export async function checkStoreConsistency(
  store: ProviderStore,
  dataDir: string,
): Promise<StoreConsistency> {
  const corruptBlobs: string[] = [];
  const blobs = new Set<string>();
  for await (const contenthash of store.blobs.list()) {
    blobs.add(contenthash);
    const stream = await store.blobs.openRead(contenthash);
    if (!stream) continue;
    const hash = createHash('sha1');
    for await (const chunk of stream) hash.update(chunk as Buffer);
    if (hash.digest('hex') !== contenthash) corruptBlobs.push(contenthash);
  }
  const strayFiles = (await walk(join(dataDir, 'filedir'))).filter((path) => {
    const name = path.split(/[\\/]/).at(-1) ?? '';
    return !blobs.has(name);
  });
  const danglingRows: string[] = [];
  for (const user of await store.users.list()) {
    for (const file of await store.files.list(user.id)) {
      if (!blobs.has(file.contenthash)) danglingRows.push(`file ${file.filepath}${file.filename}`);
    }
  }
  for (const zip of await store.zips.listOlderThan(Number.MAX_SAFE_INTEGER)) {
    if (!blobs.has(zip.contenthash)) danglingRows.push(`zip ${zip.id}`);
  }
  return { corruptBlobs, danglingRows, strayFiles, blobCount: blobs.size };
}
