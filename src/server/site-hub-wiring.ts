import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { GatewayConfig, SiteConfig } from '../config/config-schema.js';
import { withinDeadline } from '../gateway/fan-out.js';
import type { RegistryStore } from '../gateway/registry-store.js';
import { createSiteHub, type SiteHub } from '../gateway/site-hub.js';
import type { SiteInfoCache } from '../gateway/site-info-cache.js';
import type { RegisteredSite, SiteRegistry } from '../gateway/site-registry.js';
import { createSqliteRegistryStore } from '../gateway/sqlite-registry-store.js';
import { remoteEntry } from './remote-entry.js';
import type { GatewayUserSync } from './user-sync-targets.js';

export interface GatewayHubOptions {
  readonly config: GatewayConfig;
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  readonly registry: SiteRegistry;
  /** How the composition root turns a site into a registry entry (adapter, breaker, observers). */
  readonly toEntry: (site: SiteConfig) => RegisteredSite;
  readonly users: GatewayUserSync;
  readonly siteInfoCache: SiteInfoCache;
}

export interface GatewayHub {
  readonly hub: SiteHub;
  readonly store: RegistryStore;
}

/**
 * Where the registry is kept: `registry.dataDir`, else the provider's data directory when the
 * provider runs, else memory (said once, at start, since registered sites then die with the process).
 */
export function registryDataDir(config: GatewayConfig, logger: Logger): string | null {
  if (config.registry.dataDir !== undefined) return config.registry.dataDir;
  if (config.provider.enabled) return config.provider.dataDir;
  logger.warn(
    'no registry.dataDir configured and no provider: registered sites and tenants are kept in memory and lost at a restart',
  );
  return null;
}

/** The registry's store and hub, its sites loaded, every registered site a user-sync target too. */
export async function createGatewayHub(options: GatewayHubOptions): Promise<GatewayHub> {
  const { config, dispatcher, logger, registry, toEntry, users, siteInfoCache } = options;
  const registryLogger = logger.child({ part: 'registry' });
  const store = createSqliteRegistryStore({ dataDir: registryDataDir(config, registryLogger) });
  const federated = config.provider.enabled ? config.provider.federateAs : null;
  const hub = createSiteHub({
    store,
    registry,
    configSites: config.sites,
    configTenants: [
      ...config.sites.map((site) => site.tenant),
      ...config.auth.apiKeys.map((key) => key.tenant),
    ],
    // The embedded provider joins the registry once the gateway listens: its id is taken already.
    reservedSites: federated === null ? [] : [{ tenant: 'default', id: federated }],
    connect: (site, flags) => ({ ...toEntry(site), ...flags }),
    probe: (site) => {
      // A bare adapter: no breaker or metrics for a site that is not registered yet.
      const entry = remoteEntry(config, dispatcher, logger.child({ tenant: site.tenant }), site, site.url);
      return withinDeadline(entry, (candidate) => candidate.site.getSiteInfo(), {
        deadlineMs: (candidate) => candidate.timeouts.siteInfoMs,
        logger: registryLogger,
      });
    },
    onConnected: (site) => users.addSite(site),
    onDisconnected: (tenant, id) => {
      users.targets.delete(tenant, id);
      siteInfoCache.invalidate(id);
    },
    logger: registryLogger,
  });
  try {
    await hub.load();
  } catch (error) {
    await store.close();
    throw error;
  }
  return { hub, store };
}
