import type { FastifyReply, FastifyRequest } from 'fastify';
import { plainWordsFor } from '../gateway/failure-words.js';
import { PAGE_HEADERS } from './page-route.js';

export interface ErrorPageContent {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  /** The site itself, for the user to go to instead, as the original block's error page does. */
  readonly siteUrl?: string;
}

/** JSON for a program that asks for it, a small HTML page for a browser. */
export function errorPage(content: ErrorPageContent, accept: string | undefined) {
  if (wantsJson(accept)) {
    return {
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({
        error: {
          code: content.code,
          message: content.message,
          hint: plainWordsFor(content.code) ?? undefined,
          siteUrl: content.siteUrl,
        },
      }),
    };
  }
  const link = content.siteUrl
    ? `<p><a href="${escapeHtml(content.siteUrl)}">Go to ${escapeHtml(content.siteUrl)}</a></p>`
    : '';
  // What it means for the person first, in plain words; the site's own message after, for whoever helps them.
  const plain = plainWordsFor(content.code);
  const what = plain
    ? `<p class="what">${escapeHtml(plain)}</p><p class="detail">${escapeHtml(content.message)}</p>`
    : `<p class="what">${escapeHtml(content.message)}</p>`;
  return {
    contentType: 'text/html; charset=utf-8',
    body: `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Download failed</title><link rel="stylesheet" href="/assets/page.css"></head>
<body class="error-page"><main><h1>Download failed</h1>${what}${link}<p><a href="/">Back to your files</a></p><p class="detail"><small>${escapeHtml(content.code)} · ${content.status}</small></p></main></body></html>
`,
  };
}

function wantsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.includes('application/json') && !accept.includes('text/html');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Answers an error page, in the form the caller asked for, under the page's own headers (CSP). */
export function sendErrorPage(request: FastifyRequest, reply: FastifyReply, content: ErrorPageContent) {
  const page = errorPage(content, request.headers.accept);
  return reply
    .status(content.status)
    .headers(PAGE_HEADERS)
    .header('content-type', page.contentType)
    .header('cache-control', 'no-store')
    .send(page.body);
}

/** A refused link, the same for every kind of link. */
export function sendLinkRefused(request: FastifyRequest, reply: FastifyReply, reason: 'expired' | 'invalid') {
  return reason === 'expired'
    ? sendErrorPage(request, reply, {
        status: 410,
        code: 'LINK_EXPIRED',
        message: 'This download link has expired: ask for a new one.',
      })
    : sendErrorPage(request, reply, {
        status: 403,
        code: 'LINK_INVALID',
        message: 'This download link is not valid.',
      });
}
