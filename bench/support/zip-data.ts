/*
 * The zip and download benchmarks' data set, made at run time in a temp directory (never committed):
 * `count` files totalling `totalBytes`, half of the bytes text (compresses well), half random (does
 * not), in nested folders, with sizes spread from a few KiB to a few MiB.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface DataFile {
  /** Relative to the data set's root, with `/` separators: `d07/text-0042.txt`. */
  readonly path: string;
  readonly size: number;
  readonly kind: 'text' | 'random';
}

/** A small deterministic generator (mulberry32): the same sizes and words on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  'moodle gateway private files zip archive course forum quiz lesson teacher student grade assignment ' +
  'deadline upload download site federation cache token service function version release backup report ' +
  'chapter lecture notes exercise solution project group calendar message badge competency workshop';

/** About 4 MiB of text made of words and numbers, to cut text files from. */
function textBlock(random: () => number): Buffer {
  const words = WORDS.split(' ');
  const lines: string[] = [];
  let size = 0;
  while (size < 4 * 1024 * 1024) {
    const length = 6 + Math.floor(random() * 12);
    const line = Array.from({ length }, () =>
      random() < 0.1
        ? String(Math.floor(random() * 100_000))
        : (words[Math.floor(random() * words.length)] ?? ''),
    ).join(' ');
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** The files' names and sizes: log-uniform sizes scaled so that each kind sums to half of `totalBytes`. */
export function planDataSet(count: number, totalBytes: number): DataFile[] {
  const random = prng(20261122);
  const files: DataFile[] = [];
  for (const kind of ['text', 'random'] as const) {
    const n = kind === 'text' ? Math.ceil(count / 2) : Math.floor(count / 2);
    const weights = Array.from({ length: n }, () => Math.exp(Math.log(4096) + random() * Math.log(1024)));
    const sum = weights.reduce((a, b) => a + b, 0);
    let left = Math.floor(totalBytes / 2);
    weights.forEach((weight, index) => {
      const size = index === n - 1 ? left : Math.max(1, Math.floor((weight / sum) * (totalBytes / 2)));
      left -= size;
      const folder = `d${String(index % 20).padStart(2, '0')}${index % 3 === 0 ? '/sub' : ''}`;
      const name = `${kind}-${String(index).padStart(4, '0')}.${kind === 'text' ? 'txt' : 'bin'}`;
      files.push({ path: `${folder}/${name}`, size, kind });
    });
  }
  return files;
}

/** Writes the data set under `root`; every text file differs (the provider's store deduplicates equal blobs). */
export async function writeDataSet(root: string, files: readonly DataFile[]): Promise<void> {
  const random = prng(42);
  const text = textBlock(random);
  for (const file of files) {
    const target = join(root, file.path);
    await mkdir(dirname(target), { recursive: true });
    await pipeline(Readable.from(chunks(file, text, random)), createWriteStream(target));
  }
}

function* chunks(file: DataFile, text: Buffer, random: () => number): Generator<Buffer> {
  const piece = 1024 * 1024;
  if (file.kind === 'random') {
    for (let written = 0; written < file.size; written += piece) {
      yield randomBytes(Math.min(piece, file.size - written));
    }
    return;
  }
  const header = Buffer.from(`# ${file.path}\n`);
  yield header.subarray(0, Math.min(header.length, file.size));
  for (let written = header.length; written < file.size; ) {
    const start = Math.floor(random() * (text.length - piece));
    const length = Math.min(piece, file.size - written);
    yield text.subarray(start, start + length);
    written += length;
  }
}
