import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { GatewayConfig, SiteConfig } from '../config/config-schema.js';
import { withinDeadline } from '../gateway/fan-out.js';
import type { RegistryStore } from '../gateway/registry-store.js';
import type { SiteInfo } from '../gateway/site.js';
import { createSiteHub, type SiteHub } from '../gateway/site-hub.js';
import type { SiteInfoCache } from '../gateway/site-info-cache.js';
import type { RegisteredSite, SiteRegistry } from '../gateway/site-registry.js';
import { createSqliteRegistryStore } from '../gateway/sqlite-registry-store.js';
import type { Result } from '../moodle/failures.js';
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
  /** Stops following changes made beside the gateway (before the store closes). */
  readonly stopWatching: () => void;
}

/**
 * Where the registry is kept: `registry.dataDir`, else the provider's data directory when the
 * provider runs, else nowhere (null: memory). The gateway and the command line both ask this.
 */
export function registryLocation(config: GatewayConfig): string | null {
  if (config.registry.dataDir !== undefined) return config.registry.dataDir;
  if (config.provider.enabled) return config.provider.dataDir;
  return null;
}

/** `registryLocation`, said once at start when it is memory, since registered sites then die with the process. */
export function registryDataDir(config: GatewayConfig, logger: Logger): string | null {
  const dataDir = registryLocation(config);
  if (dataDir === null) {
    logger.warn(
      'no registry.dataDir configured and no provider: registered sites and tenants are kept in memory and lost at a restart',
    );
  }
  return dataDir;
}

/** Tenants the configuration names: its sites', its API keys'. */
export function configTenants(config: GatewayConfig): string[] {
  return [...config.sites.map((site) => site.tenant), ...config.auth.apiKeys.map((key) => key.tenant)];
}

/**
 * How a site is asked before it is saved (`registerSite`, a token rotation, `sites add`): a bare
 * adapter, with no breaker or metrics for a site that is not registered yet, within its deadline.
 */
export function siteProbe(
  config: GatewayConfig,
  dispatcher: Dispatcher,
  logger: Logger,
  registryLogger: Logger = logger,
): (site: SiteConfig) => Promise<Result<SiteInfo>> {
  return (site) => {
    const entry = remoteEntry(config, dispatcher, logger.child({ tenant: site.tenant }), site, site.url);
    return withinDeadline(entry, (candidate) => candidate.site.getSiteInfo(), {
      deadlineMs: (candidate) => candidate.timeouts.siteInfoMs,
      logger: registryLogger,
    });
  };
}

export interface OpenSiteHubOptions {
  readonly config: GatewayConfig;
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  /** Holds the configuration's sites already. */
  readonly registry: SiteRegistry;
  /** Holds `registry.sqlite`; null keeps the registry in memory. */
  readonly dataDir: string | null;
  readonly toEntry: (site: SiteConfig) => RegisteredSite;
  readonly onConnected?: (site: SiteConfig) => void;
  readonly onDisconnected?: (tenant: string, id: string) => void;
}

/**
 * The registry's store and hub, its stored sites loaded into `registry`: the one way to reach the
 * registry, for the gateway and for `moodle-gateway sites add|remove|list` alike.
 */
export async function openSiteHub(options: OpenSiteHubOptions): Promise<GatewayHub> {
  const { config, dispatcher, logger, registry, toEntry } = options;
  const registryLogger = logger.child({ part: 'registry' });
  const store = createSqliteRegistryStore({ dataDir: options.dataDir });
  const federated = config.provider.enabled ? config.provider.federateAs : null;
  const hub = createSiteHub({
    store,
    registry,
    configSites: config.sites,
    configTenants: configTenants(config),
    // The embedded provider joins the registry once the gateway listens: its id is taken already.
    reservedSites: federated === null ? [] : [{ tenant: 'default', id: federated }],
    connect: (site, flags) => ({ ...toEntry(site), ...flags }),
    probe: siteProbe(config, dispatcher, logger, registryLogger),
    ...(options.onConnected && { onConnected: options.onConnected }),
    ...(options.onDisconnected && { onDisconnected: options.onDisconnected }),
    logger: registryLogger,
  });
  try {
    await hub.load();
  } catch (error) {
    await store.close();
    throw error;
  }
  return { hub, store, stopWatching: () => undefined };
}

/**
 * Follows changes another process makes to the registry's file (`moodle-gateway sites add|remove`,
 * another gateway): every `intervalMs`, one cheap question to the store, and a refresh of the hub
 * when something changed. A failure is logged once, until the store answers again.
 */
export function watchRegistry(options: {
  readonly hub: SiteHub;
  readonly store: RegistryStore;
  readonly intervalMs: number;
  readonly logger: Logger;
}): () => void {
  const { hub, store, intervalMs, logger } = options;
  if (intervalMs === 0 || store.changedElsewhere === undefined) return () => undefined;
  let running = false;
  let failing = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      if (await store.changedElsewhere?.()) await hub.refresh();
      failing = false;
    } catch (error) {
      if (!failing)
        logger.warn({ err: error }, 'could not follow the changes made beside the gateway to the registry');
      failing = true;
    } finally {
      running = false;
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** The gateway's registry: every registered site a user-sync target too, its cached info dropped when it goes. */
export async function createGatewayHub(options: GatewayHubOptions): Promise<GatewayHub> {
  const { config, logger, users, siteInfoCache } = options;
  const registryLogger = logger.child({ part: 'registry' });
  const dataDir = registryDataDir(config, registryLogger);
  const { hub, store } = await openSiteHub({
    config,
    dispatcher: options.dispatcher,
    logger,
    registry: options.registry,
    dataDir,
    toEntry: options.toEntry,
    onConnected: (site) => users.addSite(site),
    onDisconnected: (tenant, id) => {
      users.targets.delete(tenant, id);
      siteInfoCache.invalidate(id);
    },
  });
  const stopWatching =
    dataDir === null
      ? () => undefined
      : watchRegistry({ hub, store, intervalMs: config.registry.watchMs, logger: registryLogger });
  return { hub, store, stopWatching };
}
