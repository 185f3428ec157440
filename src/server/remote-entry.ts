import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { GatewayConfig, SiteConfig } from '../config/config-schema.js';
import type { RegisteredSite } from '../gateway/site-registry.js';
import { createRemoteSite } from '../moodle/remote-site.js';
import { siteInfoRetryPolicy } from './guard-site.js';

/**
 * A configured site as the registry holds it: its deadlines resolved against the global ones, and
 * the REST adapter of the `MoodleSite` port. Kept apart from the composition root so that the
 * command line reaches a site without loading the HTTP app.
 */
export function remoteEntry(
  config: GatewayConfig,
  dispatcher: Dispatcher,
  logger: Logger,
  site: SiteConfig,
  url: string,
): RegisteredSite {
  const timeouts = {
    siteInfoMs: site.timeouts?.siteInfoMs ?? site.timeoutMs ?? config.timeouts.siteInfoMs,
    zipMs: site.timeouts?.zipMs ?? config.timeouts.zipMs,
    downloadIdleMs: site.timeouts?.downloadIdleMs ?? config.timeouts.downloadIdleMs,
  };
  return {
    id: site.id,
    name: site.name ?? null,
    url,
    tenant: site.tenant,
    priority: site.priority,
    enabled: site.enabled,
    timeouts,
    site: createRemoteSite({
      site: { id: site.id, url, token: site.token },
      dispatcher,
      timeouts: { ...timeouts, downloadHeadersMs: timeouts.zipMs },
      maxResponseBytes: config.maxResponseBytes,
      siteInfoRetry: siteInfoRetryPolicy(config),
      logger,
    }),
  };
}
