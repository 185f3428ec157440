import type { Readable } from 'node:stream';
import { discardBody } from './discard-body.js';

/**
 * Reads a whole body as UTF-8 text, or `undefined` (and the body destroyed) once it passes
 * `maxBytes`, so a runaway answer cannot grow the gateway's memory.
 */
export async function readCappedBody(body: Readable, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buffer.length;
    if (size > maxBytes) {
      discardBody(body);
      return undefined;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
