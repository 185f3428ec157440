import type { Readable } from 'node:stream';
import type { ChunkPool } from './chunk-pool.js';

/** A blob's identity: the SHA-1 of its bytes (lower-case hex), as Moodle's filedir names files. */
export interface BlobInfo {
  readonly contenthash: string;
  readonly size: number;
}

export interface WriteBlobOptions {
  /**
   * Bytes beyond which the write fails with `BlobTooLargeError` (the temp file is removed).
   * @default Infinity
   */
  readonly maxBytes?: number;
  /** Aborts the write; the temp file is removed and nothing becomes visible. */
  readonly signal?: AbortSignal;
  /**
   * Told of every chunk once it is written to the file (and no longer needed by the write), so that
   * buffers it lent to the reads whose bytes these are can carry other bytes.
   */
  readonly pool?: ChunkPool;
}

export interface ReadBlobOptions {
  /** First byte to read (inclusive). @default 0 */
  readonly start?: number;
  /** Last byte to read (inclusive, as in HTTP `Range`). @default the last byte */
  readonly end?: number;
  /**
   * Bytes per chunk read: larger chunks mean fewer reads and fewer chunks for every stream they pass
   * through, at the cost of that much memory per open stream.
   * @default 65536 (Node's)
   */
  readonly chunkBytes?: number;
  /**
   * Reads into this pool's buffers (its `chunkBytes` at a time, `chunkBytes` above is ignored) instead
   * of a new buffer per chunk; they come back when a write given the same pool has written them.
   */
  readonly pool?: ChunkPool;
}

/**
 * Content-addressed bytes. Equal content is stored once; a blob appears under its final name only
 * when complete and flushed, so a reader never sees a half-written file.
 * Knows nothing of rows: deciding that a blob is unreferenced is the metadata store's job.
 */
export interface BlobStore {
  /** Streams `source` into the store; resolves once the blob is durable under its hash. */
  writeStream(source: Readable, options?: WriteBlobOptions): Promise<BlobInfo>;
  /** A stream of the blob's bytes (optionally a range), or `null` when there is no such blob. */
  openRead(contenthash: string, options?: ReadBlobOptions): Promise<Readable | null>;
  /** `null` when there is no such blob. */
  stat(contenthash: string): Promise<BlobStat | null>;
  /** Every stored hash (for garbage collection and consistency checks). */
  list(): AsyncIterable<string>;
  /**
   * Removes the blob; `false` when it was not there (or, with `ifVersion`, was rewritten since that
   * version was read). Callers check references first.
   */
  delete(contenthash: string, options?: { readonly ifVersion?: string }): Promise<boolean>;
  /**
   * Removes temp files left by writes that never finished (a crash); returns how many. Files younger
   * than `olderThanMs` are kept: they may belong to a write in progress in another process.
   */
  removeStaleTempFiles(options?: { readonly olderThanMs?: number }): Promise<number>;
}

export interface BlobStat {
  readonly size: number;
  /** Last write, in ms: each write of a blob, even of equal content, refreshes it. */
  readonly mtimeMs: number;
  /** Changes with every write of the blob (an ETag), for conditional deletes. */
  readonly version: string;
}

/** The write went past `maxBytes`; nothing was stored. */
export class BlobTooLargeError extends Error {
  override readonly name = 'BlobTooLargeError';
  readonly code = 'BLOB_TOO_LARGE';
  constructor(readonly maxBytes: number) {
    super(`Content is larger than the limit of ${maxBytes} bytes`);
  }
}

const SHA1_HEX = /^[0-9a-f]{40}$/;

export function isContentHash(value: string): boolean {
  return SHA1_HEX.test(value);
}
