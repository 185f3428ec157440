import type { Readable } from 'node:stream';

/**
 * Drops an answer's body, closing its connection. undici's body errors when destroyed unread; that
 * error is expected here, so it is swallowed rather than left to crash the process.
 */
export function discardBody(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}
