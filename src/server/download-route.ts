import { pipeline } from 'node:stream/promises';
import { create as contentDisposition } from 'content-disposition';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { DownloadGrant, SignedLinks } from '../gateway/signed-links.js';
import type { RegisteredSite, SiteRegistry } from '../gateway/site-registry.js';
import type { SiteFailure } from '../moodle/failures.js';
import { type ConcurrencySlots, downloadKey } from './concurrency-slots.js';
import { sendErrorPage, sendLinkRefused } from './error-page.js';

export interface DownloadRouteDependencies {
  readonly links: SignedLinks;
  readonly registry: SiteRegistry;
  readonly logger: Logger;
  /** Downloads one user may run at once, shared with the bundle route; more are answered 429. */
  readonly slots: ConcurrencySlots;
}

/**
 * `GET /download/{link}`: streams the remote zip with backpressure. A failure before the first
 * byte is a clear page; a failure after it aborts the connection so no truncated file looks complete.
 */
export function registerDownloadRoute(
  app: FastifyInstance,
  { links, registry, logger, slots }: DownloadRouteDependencies,
) {
  app.get<{ Params: { link: string } }>('/download/:link', async (request, reply) => {
    const verified = await links.verify(request.params.link);
    if (!verified.ok) return sendLinkRefused(request, reply, verified.reason);
    const { grant } = verified;
    const entry = registry.get(grant.tenant, grant.site);
    if (!entry?.enabled) {
      return sendErrorPage(request, reply, {
        status: 410,
        code: 'SITE_GONE',
        message: `The site "${grant.site}" is no longer available.`,
      });
    }

    const release = slots.take(downloadKey(grant.tenant, grant.username));
    if (release === null) return refuseTooManyDownloads(request, reply, slots.max);
    try {
      return await streamDownload(request, reply, grant, entry, logger);
    } finally {
      release();
    }
  });
}

/** 429 with the page a browser shows: the user already runs all the downloads they may at once. */
export function refuseTooManyDownloads(request: FastifyRequest, reply: FastifyReply, maxPerUser: number) {
  reply.header('retry-after', '5');
  return sendErrorPage(request, reply, {
    status: 429,
    code: 'TOO_MANY_DOWNLOADS',
    message: `At most ${maxPerUser} downloads at once: wait for one to end.`,
  });
}

async function streamDownload(
  request: FastifyRequest,
  reply: FastifyReply,
  grant: DownloadGrant,
  entry: RegisteredSite,
  logger: Logger,
) {
  const upstream = new AbortController();
  const onClientGone = () => {
    if (!reply.raw.writableFinished) upstream.abort();
  };
  reply.raw.once('close', onClientGone);

  const opened = await entry.site.openDownload(grant.relativepath, { signal: upstream.signal });
  if (!opened.ok) {
    reply.raw.off('close', onClientGone);
    logger.warn(
      { tenant: grant.tenant, site: grant.site, code: opened.failure.code, err: opened.failure.cause },
      'download failed',
    );
    return sendSiteFailure(request, reply, grant.site, entry.url, opened.failure);
  }
  if (upstream.signal.aborted) {
    opened.value.body.destroy();
    return reply;
  }

  const { body, contentLength } = opened.value;
  reply.hijack();
  const headers: Record<string, string | number> = {
    'content-type': 'application/zip',
    'content-disposition': contentDisposition(grant.filename, { type: 'attachment' }),
    'cache-control': 'private, no-store',
    'x-content-type-options': 'nosniff',
  };
  if (contentLength !== null) headers['content-length'] = contentLength;
  reply.raw.writeHead(200, headers);
  try {
    await pipeline(body, reply.raw);
    logger.info({ tenant: grant.tenant, site: grant.site, username: grant.username }, 'download complete');
  } catch (error) {
    // Headers are gone: only cutting the connection tells the client the file is incomplete.
    reply.raw.destroy();
    body.destroy();
    if (!upstream.signal.aborted) {
      logger.warn(
        { tenant: grant.tenant, site: grant.site, err: error },
        'download aborted after the first byte',
      );
    }
  } finally {
    reply.raw.off('close', onClientGone);
  }
  return reply;
}

function sendSiteFailure(
  request: FastifyRequest,
  reply: FastifyReply,
  site: string,
  siteUrl: string,
  failure: SiteFailure,
) {
  // A site in maintenance or behind an open circuit will be back: 503 with its Retry-After.
  const status =
    failure.code === 'TIMEOUT'
      ? 504
      : failure.code === 'MAINTENANCE' || failure.code === 'CIRCUIT_OPEN'
        ? 503
        : 502;
  if (failure.retryAfterSeconds !== undefined) reply.header('retry-after', String(failure.retryAfterSeconds));
  return sendErrorPage(request, reply, {
    status,
    code: failure.code,
    message: `${site}: ${failure.message}`,
    siteUrl,
  });
}
