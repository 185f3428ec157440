import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

/**
 * Nothing inline, nothing from elsewhere: the page's script and style are files of this origin, and
 * it talks only to this gateway.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The headers every page of the gateway is served with. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

interface Asset {
  readonly path: string;
  readonly file: string;
  readonly contentType: string;
}

const ASSETS: readonly Asset[] = [
  { path: '/', file: 'index.html', contentType: 'text/html; charset=utf-8' },
  { path: '/assets/page.js', file: 'page.js', contentType: 'text/javascript; charset=utf-8' },
  { path: '/assets/page.css', file: 'page.css', contentType: 'text/css; charset=utf-8' },
];

/**
 * Where the page's files are: beside this module, in `src/server/page/` when run from the sources
 * and in `dist/server/page/` once built (the build copies them there).
 */
const PAGE_DIR = new URL('./page/', import.meta.url);

/** Serves the page at `/` and its two files, read once at start, with an ETag for revalidation. */
export function registerPage(app: FastifyInstance): void {
  for (const asset of ASSETS) {
    const body = readFileSync(new URL(asset.file, PAGE_DIR));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    app.get(asset.path, async (request, reply) => {
      reply.headers({
        ...PAGE_HEADERS,
        etag,
        // The page is small and changes with the gateway: always revalidated, cheap with the ETag.
        'cache-control': 'no-cache',
      });
      if (request.headers['if-none-match'] === etag) return reply.status(304).send();
      return reply.type(asset.contentType).send(body);
    });
  }
}
