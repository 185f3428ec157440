import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

type Callback = (error?: Error | null) => void;

interface ZipOutputStream {
  cork(): void;
  uncork(): void;
  _write(chunk: Buffer, encoding: BufferEncoding | 'buffer', callback: Callback): void;
  _writev?:
    | ((chunks: { chunk: Buffer | string; encoding: BufferEncoding }[], callback: Callback) => void)
    | null;
}

/** The methods of archiver's zip stream that write a header, one `write` per field. */
const HEADER_WRITERS = [
  '_writeLocalFileHeader',
  '_writeDataDescriptor',
  '_writeCentralFileHeader',
  '_writeCentralDirectoryEnd',
  '_writeCentralDirectoryZip64',
] as const;

/** Chunks smaller than this, written in a row, are passed on as one. */
const SMALL_CHUNK_BYTES = 16 * 1024;

let outcome: Promise<boolean> | undefined;

/**
 * archiver's zip stream (compress-commons) writes every field of every header on its own: about 35
 * writes of 2 to 4 bytes per entry, each crossing the archive's streams, the hash and the file write.
 * For 2,000 entries that is some 70,000 writes and well over 100 MiB of short-lived JavaScript objects
 * per zip, which makes V8 grow its young generation to its largest (32 MiB more RSS). This makes each
 * header one write: the header-writing methods of the very class archiver uses (found through
 * archiver's own dependencies) run corked, and the stream passes what they wrote on as one chunk when
 * uncorked. Every byte and offset is the same (the fields are still written, in order, by archiver's
 * own code); large chunks (entry data) are never joined. Once per process; when anything cannot be
 * found or is not as expected, archiver stays as it is, and the zips are the same.
 * Resolves with whether the headers are now written whole.
 */
export function useArchiverWholeHeaders(): Promise<boolean> {
  outcome ??= install().catch(() => false);
  return outcome;
}

async function install(): Promise<boolean> {
  let require = createRequire(import.meta.url);
  for (const step of ['archiver', 'zip-stream']) require = createRequire(require.resolve(step));
  const module = (await import(pathToFileURL(require.resolve('compress-commons')).href)) as {
    ZipArchiveOutputStream?: { prototype: ZipOutputStream & Record<string | symbol, unknown> };
  };
  const prototype = module.ZipArchiveOutputStream?.prototype;
  if (!prototype) return false;
  if (prototype[PATCHED] === true) return true;
  if (
    HEADER_WRITERS.some((name) => typeof prototype[name] !== 'function') ||
    typeof prototype.cork !== 'function' ||
    typeof prototype.uncork !== 'function' ||
    typeof prototype._write !== 'function' ||
    // A stream that already takes several chunks at once is not the one this was written for.
    typeof prototype._writev === 'function'
  ) {
    return false;
  }
  for (const name of HEADER_WRITERS) {
    const original = prototype[name] as (this: ZipOutputStream, ...args: unknown[]) => unknown;
    prototype[name] = function (this: ZipOutputStream, ...args: unknown[]) {
      this.cork();
      try {
        return original.apply(this, args);
      } finally {
        this.uncork();
      }
    };
  }
  prototype._writev = function (this: ZipOutputStream, chunks, callback) {
    const parts: Buffer[] = [];
    let small: Buffer[] = [];
    for (const { chunk, encoding } of chunks) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
      if (bytes.length < SMALL_CHUNK_BYTES) {
        small.push(bytes);
        continue;
      }
      if (small.length > 0) parts.push(Buffer.concat(small));
      small = [];
      parts.push(bytes);
    }
    if (small.length > 0) parts.push(Buffer.concat(small));
    // Through the stream's own single-chunk write, one part after the other (its backpressure kept).
    const next = (index: number, error?: Error | null) => {
      const part = parts[index];
      if (error || part === undefined) callback(error);
      else this._write(part, 'buffer', (failed) => next(index + 1, failed));
    };
    next(0);
  };
  prototype[PATCHED] = true;
  return true;
}

const PATCHED = Symbol.for('moodle-gateway.archiver-whole-headers');
