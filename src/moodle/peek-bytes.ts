import type { Readable } from 'node:stream';

/**
 * Reads the first `count` bytes of a paused stream (fewer when it ends sooner) and puts them back,
 * so whoever reads the stream next still gets every byte. Rejects with the stream's error.
 */
export async function peekBytes(body: Readable, count: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < count) {
    const chunk = body.read() as Buffer | string | null;
    if (chunk !== null) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      chunks.push(buffer);
      size += buffer.length;
      continue;
    }
    if (body.errored) throw body.errored;
    if (body.readableEnded || body.destroyed) break;
    await nextEvent(body);
  }
  const head = Buffer.concat(chunks);
  // Once `end` was emitted nothing can be put back, and a body that short is read no further anyway.
  if (head.length > 0 && !body.readableEnded) body.unshift(head);
  return head;
}

function nextEvent(body: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: unknown) => {
      body.off('readable', onReadable);
      body.off('end', onReadable);
      body.off('close', onReadable);
      body.off('error', settle);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onReadable = () => settle();
    body.on('readable', onReadable);
    body.on('end', onReadable);
    body.on('close', onReadable);
    body.on('error', settle);
  });
}
