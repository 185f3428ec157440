import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { createWriteStream } from 'node:fs';
import { type FileHandle, link, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type BlobInfo,
  type BlobStat,
  type BlobStore,
  BlobTooLargeError,
  isContentHash,
  type ReadBlobOptions,
  type WriteBlobOptions,
} from './blob-store.js';
import type { ChunkPool } from './chunk-pool.js';

export interface FileBlobStoreOptions {
  /** Blobs go to `{dataDir}/filedir/ab/cd/abcd…`, temp files to `{dataDir}/temp/blobs/`. */
  readonly dataDir: string;
}

const TEMP_SUFFIX = '.tmp';
const TRASH_SUFFIX = '.trash';

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

async function ignoreMissing<T>(action: Promise<T>): Promise<T | undefined> {
  try {
    return await action;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** `false` when the file was not there. */
async function succeeded(action: Promise<void>): Promise<boolean> {
  try {
    await action;
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

async function syncDirectory(path: string): Promise<void> {
  // Makes a rename durable on power loss; not possible on every platform, so best effort.
  try {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {}
}

/**
 * Node's own file functions for a write stream, telling `pool` of every chunk written whole: a write
 * stream writes each chunk with one `write` (or several with one `writev`), continuing a partial write
 * with the rest of it (a view the pool does not know), and keeps none once its callback has run.
 */
function reportingWrites(pool: ChunkPool) {
  return {
    open: fs.open,
    close: fs.close,
    fsync: fs.fsync,
    write(
      fd: number,
      buffer: Buffer,
      offset: number,
      length: number,
      position: number | null,
      callback: (error: NodeJS.ErrnoException | null, written: number, buffer: Buffer) => void,
    ) {
      fs.write(fd, buffer, offset, length, position, (error, written, same) => {
        if (!error && offset === 0 && written === buffer.length) pool.done(buffer);
        callback(error, written, same);
      });
    },
    writev(
      fd: number,
      buffers: Buffer[],
      position: number | null,
      callback: (error: NodeJS.ErrnoException | null, written: number, buffers: Buffer[]) => void,
    ) {
      fs.writev(fd, buffers, position, (error, written, same) => {
        if (!error && written === buffers.reduce((sum, buffer) => sum + buffer.length, 0)) {
          for (const buffer of buffers) pool.done(buffer);
        }
        callback(error, written, same);
      });
    },
  };
}

/** The bytes `start`…`end` (inclusive) of an open file, read into `pool`'s buffers; closes the file. */
function pooledReadStream(handle: FileHandle, pool: ChunkPool, start = 0, end = Number.POSITIVE_INFINITY) {
  let position = start;
  return new Readable({
    // Reads ahead one chunk at most, as a read stream whose highWaterMark is the chunk size.
    highWaterMark: pool.chunkBytes,
    read() {
      const wanted = Math.min(pool.chunkBytes, end - position + 1);
      if (wanted <= 0) {
        this.push(null);
        return;
      }
      const buffer = pool.take();
      handle.read(buffer, 0, wanted, position).then(
        ({ bytesRead }) => {
          if (bytesRead === 0) {
            pool.putBack(buffer);
            this.push(null);
            return;
          }
          position += bytesRead;
          this.push(pool.lend(buffer, bytesRead));
        },
        (error: Error) => this.destroy(error),
      );
    },
    destroy(error, callback) {
      // Waits for a read in progress; its buffer is then never lent, and left to the collector.
      handle.close().then(
        () => callback(error),
        (closeError: Error) => callback(error ?? closeError),
      );
    },
  });
}

function versionOf(stats: { ino: number; mtimeMs: number; size: number }): string {
  return `${stats.ino}-${stats.mtimeMs}-${stats.size}`;
}

/** A Moodle-filedir-like blob directory on the local filesystem. */
export function createFileBlobStore({ dataDir }: FileBlobStoreOptions): BlobStore {
  const filedir = join(dataDir, 'filedir');
  const tempdir = join(dataDir, 'temp', 'blobs');
  const activeTempFiles = new Set<string>();

  const folderOf = (hash: string) => join(filedir, hash.slice(0, 2), hash.slice(2, 4));
  const pathOf = (hash: string) => join(folderOf(hash), hash);

  function assertHash(hash: string): void {
    if (!isContentHash(hash)) throw new TypeError(`Not a content hash: ${JSON.stringify(hash)}`);
  }

  async function writeStream(source: Readable, options: WriteBlobOptions = {}): Promise<BlobInfo> {
    const { maxBytes = Number.POSITIVE_INFINITY, signal, pool } = options;
    await mkdir(tempdir, { recursive: true });
    const tempPath = join(tempdir, `${randomUUID()}${TEMP_SUFFIX}`);
    activeTempFiles.add(tempPath);
    const hash = createHash('sha1');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > maxBytes) {
          callback(new BlobTooLargeError(maxBytes));
          return;
        }
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      // `flush` fsyncs before close, so the bytes are on disk before the rename publishes them.
      const file = createWriteStream(tempPath, {
        flags: 'wx',
        flush: true,
        ...(pool && { fs: reportingWrites(pool) }),
      });
      await pipeline(source, meter, file, ...(signal ? [{ signal }] : []));
      const contenthash = hash.digest('hex');
      const folder = folderOf(contenthash);
      await mkdir(folder, { recursive: true });
      // Always rename, even over an equal blob: the fresh version protects it from a concurrent sweep.
      await rename(tempPath, pathOf(contenthash));
      await syncDirectory(folder);
      return { contenthash, size };
    } catch (error) {
      await ignoreMissing(unlink(tempPath));
      throw error;
    } finally {
      activeTempFiles.delete(tempPath);
    }
  }

  async function openRead(contenthash: string, options: ReadBlobOptions = {}): Promise<Readable | null> {
    assertHash(contenthash);
    const handle = await ignoreMissing(open(pathOf(contenthash), 'r'));
    if (!handle) return null;
    if (options.pool) return pooledReadStream(handle, options.pool, options.start, options.end);
    return handle.createReadStream({
      start: options.start,
      end: options.end,
      ...(options.chunkBytes !== undefined && { highWaterMark: options.chunkBytes }),
    });
  }

  async function statBlob(contenthash: string): Promise<BlobStat | null> {
    assertHash(contenthash);
    const stats = await ignoreMissing(stat(pathOf(contenthash)));
    if (!stats) return null;
    return { size: stats.size, mtimeMs: stats.mtimeMs, version: versionOf(stats) };
  }

  async function* list(): AsyncIterable<string> {
    const level1 = (await ignoreMissing(readdir(filedir))) ?? [];
    for (const a of level1.sort()) {
      const level2 = (await ignoreMissing(readdir(join(filedir, a)))) ?? [];
      for (const b of level2.sort()) {
        const names = (await ignoreMissing(readdir(join(filedir, a, b)))) ?? [];
        for (const name of names.sort()) {
          if (isContentHash(name) && name.startsWith(a + b)) yield name;
        }
      }
    }
  }

  async function deleteBlob(contenthash: string, options: { ifVersion?: string } = {}): Promise<boolean> {
    assertHash(contenthash);
    const target = pathOf(contenthash);
    if (options.ifVersion === undefined) return succeeded(unlink(target));
    // Move aside first, then look: a write that renamed a fresh copy in meanwhile is put back.
    await mkdir(tempdir, { recursive: true });
    const trash = join(tempdir, `${contenthash}.${randomUUID()}${TRASH_SUFFIX}`);
    activeTempFiles.add(trash);
    try {
      if (!(await succeeded(rename(target, trash)))) return false;
      if (versionOf(await stat(trash)) !== options.ifVersion) {
        await restore(trash, target);
        return false;
      }
      await unlink(trash);
      return true;
    } finally {
      activeTempFiles.delete(trash);
    }
  }

  async function restore(trash: string, target: string): Promise<void> {
    try {
      await link(trash, target);
    } catch (error) {
      // A newer equal copy already sits there: ours is redundant.
      if (!isErrno(error, 'EEXIST')) throw error;
    }
    await unlink(trash);
  }

  async function removeStaleTempFiles({ olderThanMs = 0 } = {}): Promise<number> {
    const names = (await ignoreMissing(readdir(tempdir))) ?? [];
    let removed = 0;
    for (const name of names) {
      const path = join(tempdir, name);
      if (activeTempFiles.has(path)) continue;
      // ctime, because a rename (how trash files are made) keeps mtime but sets ctime.
      const stats = await ignoreMissing(stat(path));
      if (!stats || Date.now() - stats.ctimeMs < olderThanMs) continue;
      if (name.endsWith(TEMP_SUFFIX)) {
        if (await succeeded(unlink(path))) removed++;
      } else if (name.endsWith(TRASH_SUFFIX)) {
        // A crash mid-delete: the blob may have been referenced again, so it goes back; a sweep decides.
        const hash = name.slice(0, 40);
        if (!isContentHash(hash)) continue;
        await mkdir(folderOf(hash), { recursive: true });
        await succeeded(restore(path, pathOf(hash)));
      }
    }
    return removed;
  }

  return {
    writeStream,
    openRead,
    stat: statBlob,
    list,
    delete: deleteBlob,
    removeStaleTempFiles,
  };
}
