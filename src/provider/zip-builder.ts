import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { deflateRawSync } from 'node:zlib';
import { ZipArchive } from 'archiver';
import { ChunkPool } from './store/chunk-pool.js';
import type { GeneratedZip, PrivateFile, ProviderStore, ProviderUser } from './store/repository.js';
import { StoreConflictError } from './store/repository.js';
import { useArchiverNativeCrc32 } from './use-archiver-native-crc32.js';
import { useArchiverWholeHeaders } from './use-archiver-whole-headers.js';

export const PRIVATE_FILES_ZIP_FILENAME = 'myprivatefiles.zip';
export const PRIVATE_FILES_ZIP_SOURCE = 'block_my_external_privatefiles_get_private_files_zip';

export interface BuildPrivateFilesZipOptions {
  readonly store: ProviderStore;
  /** Whose private files go into the zip. */
  readonly user: ProviderUser;
  /** The web-service account asking; the zip lands in its draft area. */
  readonly requestedBy: ProviderUser;
  /**
   * Moodle stores entries uncompressed. `deflate` compresses at zlib's fastest level, and stores the
   * files whose first bytes do not compress (photos, videos, archives: deflating them costs time for
   * nothing). @default 'store'
   */
  readonly compression?: 'store' | 'deflate';
  /** @default 'myprivatefiles.zip' */
  readonly filename?: string;
  /** @default 'block_my_external_privatefiles_get_private_files_zip' */
  readonly source?: string;
  /** Largest zip accepted; past it the build fails and nothing is stored. @default Infinity */
  readonly maxBytes?: number;
  readonly signal?: AbortSignal;
}

export type PrivateFilesZipOutcome =
  | { readonly kind: 'created'; readonly zip: GeneratedZip }
  /** The user has no private files: Moodle answers "No file found in your private file area". */
  | { readonly kind: 'empty-area' };

/** A blob a file row points at is gone: the store is inconsistent, never a user's mistake. */
export class MissingBlobError extends Error {
  override readonly name = 'MissingBlobError';
  constructor(readonly file: PrivateFile) {
    super(`The content of ${file.filepath}${file.filename} (${file.contenthash}) is missing`);
  }
}

// Moodle's user context ids are arbitrary; an offset keeps them clear of the system (1) and site ids.
const USER_CONTEXT_OFFSET = 1000;

/** The stable context id of a user's draft area. */
export function userContextId(userId: number): number {
  return USER_CONTEXT_OFFSET + userId;
}

/** A random 9-digit draft item id, like Moodle's `file_get_unused_draft_itemid`. */
export function generateDraftItemId(): number {
  return randomInt(100_000_000, 1_000_000_000);
}

export type ZipEntry = { readonly folder: string; readonly date: number } | { readonly file: PrivateFile };

/** Entry names in Moodle's order: each folder (`notes/`) before what it holds, folders as entries. */
export function zipEntries(files: readonly PrivateFile[]): ZipEntry[] {
  const sorted = [...files].sort((a, b) =>
    a.filepath === b.filepath ? compare(a.filename, b.filename) : compare(a.filepath, b.filepath),
  );
  const seen = new Set<string>();
  const entries: ZipEntry[] = [];
  for (const file of sorted) {
    const segments = file.filepath.split('/').filter(Boolean);
    for (let depth = 1; depth <= segments.length; depth++) {
      const folder = `${segments.slice(0, depth).join('/')}/`;
      if (!seen.has(folder)) {
        seen.add(folder);
        entries.push({ folder, date: file.timemodified });
      }
    }
    entries.push({ file });
  }
  return entries;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const DRAFT_ITEM_ATTEMPTS = 5;

/**
 * Chunks read from the blobs: the bytes cross a CRC, the archive's streams, a hash and a file write
 * once per chunk, so 64 KiB chunks made a stored zip's build mostly per-chunk overhead. One chunk of
 * one file is open at a time.
 */
const READ_CHUNK_BYTES = 1024 * 1024;

/** Fastest: a few percent larger than zlib's default (6) on text, and several times quicker. */
const DEFLATE_LEVEL = 1;

/** How much of a file is tried before deciding whether it is worth deflating. */
const SAMPLE_BYTES = 64 * 1024;

/** Below this, a file is deflated without trying: there is nothing to gain by looking. */
const ALWAYS_DEFLATE_BELOW_BYTES = 4096;

/** Whether deflating a file is worth it, from how well its first bytes compress (read into `pool`). */
async function worthDeflating(store: ProviderStore, file: PrivateFile, pool: ChunkPool): Promise<boolean> {
  if (file.size < ALWAYS_DEFLATE_BELOW_BYTES) return true;
  const head = await store.blobs.openRead(file.contenthash, {
    start: 0,
    end: Math.min(file.size, SAMPLE_BYTES) - 1,
    pool,
  });
  if (!head) throw new MissingBlobError(file);
  const chunks: Buffer[] = [];
  for await (const chunk of head) chunks.push(chunk as Buffer);
  const sample = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
  const worth = deflateRawSync(sample, { level: DEFLATE_LEVEL }).length < sample.length * 0.9;
  for (const chunk of chunks) pool.done(chunk);
  return worth;
}

/**
 * Zips the user's whole private area: blobs are streamed one at a time into the archive, which is
 * streamed into the blob store (a temp file renamed once complete), then a draft row is recorded.
 */
export async function buildPrivateFilesZip(
  options: BuildPrivateFilesZipOptions,
): Promise<PrivateFilesZipOutcome> {
  const {
    store,
    user,
    requestedBy,
    compression = 'store',
    filename = PRIVATE_FILES_ZIP_FILENAME,
    source = PRIVATE_FILES_ZIP_SOURCE,
    maxBytes,
    signal,
  } = options;
  const files = await store.files.list(user.id);
  if (files.length === 0) return { kind: 'empty-area' };

  useArchiverNativeCrc32();
  await useArchiverWholeHeaders();
  const archive = new ZipArchive(
    compression === 'store' ? { store: true } : { zlib: { level: DEFLATE_LEVEL } },
  );
  // The read buffers of stored entries come back from the write, once it has written them; those of
  // deflated entries once the entry is complete (zlib then has them all behind it).
  const storedChunks = new ChunkPool(READ_CHUNK_BYTES);
  const deflatedChunks = new ChunkPool(READ_CHUNK_BYTES);
  const writeFailed = new AbortController();
  const writing = store.blobs.writeStream(archive, { maxBytes, signal, pool: storedChunks });
  writing.catch((error: unknown) => writeFailed.abort(error));
  // The write may not be listening yet; an archive error (a blob read failing) must still stop us.
  archive.on('error', (error) => writeFailed.abort(error));
  const stop = signal ? AbortSignal.any([signal, writeFailed.signal]) : writeFailed.signal;
  let content: Readable | null = null;
  let deflated = false;

  try {
    for (const entry of zipEntries(files)) {
      stop.throwIfAborted();
      if ('file' in entry) {
        const { file } = entry;
        deflated = compression === 'deflate' && (await worthDeflating(store, file, deflatedChunks));
        const pool = deflated ? deflatedChunks : storedChunks;
        content = await store.blobs.openRead(file.contenthash, { pool });
        if (!content) throw new MissingBlobError(file);
        archive.append(content, {
          name: `${file.filepath.slice(1)}${file.filename}`,
          date: new Date(file.timemodified * 1000),
          ...(compression === 'deflate' && !deflated && { store: true }),
        });
      } else {
        archive.append('', { name: entry.folder, type: 'directory', date: new Date(entry.date * 1000) });
      }
      // One entry at a time, so a big area never holds more than one blob open.
      await once(archive, 'entry', { signal: stop });
      // The entry's deflate stream has ended: it has consumed (and dropped) every chunk read for it.
      if (deflated) deflatedChunks.reclaimAll();
      deflated = false;
      content = null;
    }
    // Completion is the write's: finalize() would wait forever on a write that failed.
    archive.finalize().catch(() => undefined);
  } catch (error) {
    content?.destroy();
    const reason = writeFailed.signal.aborted ? writeFailed.signal.reason : error;
    // Without an error: the write may not be listening yet, and it fails on the premature close anyway.
    archive.destroy();
    // Waiting for the write to fail means its temp file is gone before we answer.
    await writing.catch(() => undefined);
    throw reason;
  }

  const blob = await writing;
  for (let attempt = 1; ; attempt++) {
    try {
      const zip = await store.zips.record({
        contextid: userContextId(requestedBy.id),
        itemid: generateDraftItemId(),
        filename,
        contenthash: blob.contenthash,
        size: blob.size,
        ownerUserId: user.id,
        requestedByUserId: requestedBy.id,
        source,
      });
      return { kind: 'created', zip };
    } catch (error) {
      if (!(error instanceof StoreConflictError) || attempt >= DRAFT_ITEM_ATTEMPTS) throw error;
    }
  }
}
