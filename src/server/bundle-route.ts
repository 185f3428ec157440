import { pipeline } from 'node:stream/promises';
import { create as contentDisposition } from 'content-disposition';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { BundleLinks } from '../gateway/bundle-links.js';
import { createPrivateFilesBundle } from '../gateway/private-files-bundle.js';
import type { SiteInfoCache } from '../gateway/site-info-cache.js';
import type { RegisteredSite, SiteRegistry } from '../gateway/site-registry.js';
import type { ZipFileNameOptions } from '../gateway/zip-file-name.js';
import { type ConcurrencySlots, downloadKey } from './concurrency-slots.js';
import { refuseTooManyDownloads } from './download-route.js';
import { sendLinkRefused } from './error-page.js';

export interface BundleRouteDependencies {
  readonly links: BundleLinks;
  readonly registry: SiteRegistry;
  readonly siteInfoCache: SiteInfoCache;
  readonly fileName: ZipFileNameOptions;
  readonly logger: Logger;
  /** Shared with single-site downloads: a bundle takes one of the user's slots. */
  readonly slots: ConcurrencySlots;
}

/**
 * `GET /bundle/{link}`: one zip of a user's private files from every site of the link, streamed as
 * the sites' zips arrive. Headers go out at once; a site that fails is named in the bundle's
 * README.txt; a site's zip breaking off half-way cuts the connection, so no broken bundle looks whole.
 */
export function registerBundleRoute(app: FastifyInstance, deps: BundleRouteDependencies): void {
  const { links, registry, siteInfoCache, fileName, logger, slots } = deps;
  app.get<{ Params: { link: string } }>('/bundle/:link', async (request, reply) => {
    const verified = await links.verify(request.params.link);
    if (!verified.ok) return sendLinkRefused(request, reply, verified.reason);
    const { grant } = verified;
    const release = slots.take(downloadKey(grant.tenant, grant.username));
    if (release === null) return refuseTooManyDownloads(request, reply, slots.max);
    try {
      // A site removed or disabled since the link was made is left out.
      const entries = grant.sites
        .map((id) => registry.get(grant.tenant, id))
        .filter((entry): entry is RegisteredSite => entry?.enabled === true);

      const upstream = new AbortController();
      const onClientGone = () => {
        if (!reply.raw.writableFinished) upstream.abort();
      };
      reply.raw.once('close', onClientGone);
      const bundleLogger = logger.child({ tenant: grant.tenant });
      const bundle = createPrivateFilesBundle({
        entries,
        username: grant.username,
        siteInfoCache,
        fileName,
        at: new Date(),
        signal: upstream.signal,
        logger: bundleLogger,
      });

      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'application/zip',
        'content-disposition': contentDisposition(grant.filename, { type: 'attachment' }),
        'cache-control': 'private, no-store',
        'x-content-type-options': 'nosniff',
      });
      // The browser shows the download at once, while the sites are still zipping.
      reply.raw.flushHeaders();
      try {
        await pipeline(bundle.archive, reply.raw);
        const { included, failed } = await bundle.summary;
        bundleLogger.info(
          {
            username: grant.username,
            included: included.map((item) => item.site),
            failed: failed.map((item) => ({ site: item.site, code: item.failure.code })),
          },
          'bundle complete',
        );
      } catch (error) {
        const clientLeft = upstream.signal.aborted;
        // Headers are gone: only cutting the connection tells the client the bundle is incomplete.
        reply.raw.destroy();
        upstream.abort();
        if (!clientLeft) {
          bundleLogger.warn({ username: grant.username, err: error }, 'bundle aborted after the first byte');
        }
      } finally {
        reply.raw.off('close', onClientGone);
      }
    } finally {
      release();
    }
    return reply;
  });
}
