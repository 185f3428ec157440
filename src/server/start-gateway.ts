import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createAuthenticator, sha256Hex } from '../auth/authenticate.js';
import { createPolicy } from '../auth/policy.js';
import type { GatewayConfig, SiteConfig } from '../config/config-schema.js';
import { createBundleLinks } from '../gateway/bundle-links.js';
import { createBundleRequests } from '../gateway/bundle-requests.js';
import { observeSite } from '../gateway/observed-site.js';
import { createPrivateFiles } from '../gateway/private-files.js';
import { createSignedLinks } from '../gateway/signed-links.js';
import { createSiteInfoCache } from '../gateway/site-info-cache.js';
import { createSiteRegistry, type RegisteredSite, type SiteRegistry } from '../gateway/site-registry.js';
import { createSitesVersion } from '../gateway/sites-version.js';
import { createAgent } from '../moodle/agent.js';
import { schema } from '../schema/index.js';
import { circuitStatesOf, withCircuits } from './circuit-states.js';
import { createApp } from './create-app.js';
import { guardSite } from './guard-site.js';
import { combineSiteObservers, createReadiness, createSiteHealthTracker } from './health.js';
import { listen, shutdown } from './http.js';
import { createMetrics, type GatewayMetrics } from './metrics.js';
import { type MountedProvider, mountProvider } from './mount-provider.js';
import { remoteEntry } from './remote-entry.js';
import { createResponseCache } from './response-cache.js';
import { createGatewayHub } from './site-hub-wiring.js';
import { createGatewayUserSync, selfSyncCredentials } from './user-sync-targets.js';

export interface RunningGateway {
  /** Where this machine reaches the gateway, e.g. `http://127.0.0.1:4000`. */
  readonly url: URL;
  readonly app: FastifyInstance;
  readonly registry: SiteRegistry;
  /** The demo's provider token, when the demo was seeded (shown once, at start). */
  readonly demoToken: string | null;
  /**
   * An admin API key made up for the demo when no caller is configured at all (no API key, no JWT),
   * so that the demo works at once; shown once, at start, never logged.
   */
  readonly demoAdminKey: string | null;
  /** What `/metrics` exports. */
  readonly metrics: GatewayMetrics;
  /** The mounted local provider, when enabled. */
  readonly provider: MountedProvider | null;
  /** Stops accepting, lets in-flight work finish within the grace period, closes pools, cron and store. */
  close(): Promise<void>;
}

export interface StartGatewayOptions {
  /** @default a new `createMetrics()` */
  readonly metrics?: GatewayMetrics;
}

/** The composition root: config → agent, registry, provider → app → listening server. */
export async function startGateway(
  config: GatewayConfig,
  logger: Logger,
  { metrics = createMetrics() }: StartGatewayOptions = {},
): Promise<RunningGateway> {
  const agent = createAgent({ connectTimeoutMs: config.timeouts.connectMs });
  const siteHealth = createSiteHealthTracker();
  // Moves with every change a kept GraphQL answer could depend on (registry, cached infos, circuits).
  const sitesVersion = createSitesVersion();
  const siteObserver = combineSiteObservers(metrics.siteCalls, siteHealth);
  const toEntry = (site: SiteConfig, url = site.url): RegisteredSite => {
    const siteLogger = logger.child({ tenant: site.tenant });
    const entry = remoteEntry(config, agent, siteLogger, site, url);
    const guarded = guardSite(entry.site, config, siteLogger, sitesVersion.bump);
    // Observed outside the breaker, so that its CIRCUIT_OPEN answers are counted too; the observed
    // site keeps the breaker's `circuit()` readable.
    return { ...entry, site: observeSite(guarded, { tenant: entry.tenant, observer: siteObserver }) };
  };
  const registry = createSiteRegistry(
    config.sites.map((site) => toEntry(site)),
    { onChange: sitesVersion.bump },
  );

  const secret = linkSecret(config, logger);
  const links = createSignedLinks({ secret, ttlSeconds: config.downloadLinks.ttlSeconds });
  const siteInfoCache = createSiteInfoCache({
    ttlMs: config.siteInfoCacheTtlMs,
    onLookup: (entry, hit) => metrics.siteInfoCacheLookup({ tenant: entry.tenant, site: entry.id, hit }),
    onChange: sitesVersion.bump,
  });
  const privateFiles = createPrivateFiles({ links, fileName: config.zipFileName });
  const users = createGatewayUserSync({ config, dispatcher: agent, logger });
  // Registered sites join the configured ones in the registry before anything is served.
  const {
    hub,
    store: registryStore,
    stopWatching,
  } = await createGatewayHub({
    config,
    dispatcher: agent,
    logger,
    registry,
    toEntry: (site) => toEntry(site),
    users,
    siteInfoCache,
  });
  const bundleLinks = createBundleLinks({ secret, ttlSeconds: config.downloadLinks.ttlSeconds });

  const provider = config.provider.enabled
    ? await mountProvider(config.provider, logger, {
        zipBuilt: metrics.zipBuilt,
        cleanupRan: metrics.cleanupRan,
      })
    : null;
  const demoAdminKey =
    config.provider.seedDemo && config.auth.apiKeys.length === 0 && config.auth.jwt === undefined
      ? randomBytes(24).toString('base64url')
      : null;
  const tenants = () => hub.tenants().map((tenant) => tenant.id);
  const circuits = circuitStatesOf(registry, tenants);
  metrics.setCircuitStateSource(circuits);
  const readiness = createReadiness({
    checks: [
      // Reaching this point means the configuration parsed; a reload that fails would flip it.
      { name: 'config', check: () => undefined },
      ...(provider ? [{ name: 'store', check: () => provider.checkStore() }] : []),
      { name: 'registry', check: () => registryStore.check() },
    ],
    sites: () =>
      withCircuits(
        siteHealth.snapshot(
          tenants().flatMap((tenant) =>
            registry.list(tenant, { includeDisabled: true }).map((entry) => ({ tenant, site: entry.id })),
          ),
        ),
        circuits(),
      ),
  });
  const app = await createApp({
    schema,
    registry,
    siteInfoCache,
    privateFiles,
    links,
    logger,
    ...(config.server.publicUrl !== undefined && { publicUrl: config.server.publicUrl }),
    isReady: () => provider?.isReady() ?? true,
    readiness,
    metrics,
    security: {
      authenticate: createAuthenticator({
        ...config.auth,
        apiKeys: [
          ...config.auth.apiKeys,
          ...(demoAdminKey === null
            ? []
            : [
                {
                  id: 'demo-admin',
                  sha256: sha256Hex(demoAdminKey),
                  role: 'admin' as const,
                  tenant: 'default',
                },
              ]),
        ],
      }),
      policy: createPolicy({ anonymous: config.auth.anonymous }),
      rateLimit: config.rateLimit,
      downloadsPerUser: config.rateLimit.downloadsPerUser,
      corsOrigins: config.corsOrigins,
    },
    graphql: {
      ...config.graphql,
      maxUploadBytes: config.provider.maxUploadBytes,
      maxConcurrentUploads: config.provider.maxConcurrentUploads,
      // Off in production unless asked for: they show the whole schema to anyone.
      introspection: config.graphql.introspection ?? process.env.NODE_ENV !== 'production',
    },
    graphiql: config.graphql.graphiql ?? process.env.NODE_ENV !== 'production',
    providerAdmin: provider?.admin ?? null,
    userSync: users.userSync,
    userSyncAdmin: provider?.userSyncAdmin ?? null,
    hub,
    responseCache:
      config.graphql.responseCache.maxEntries > 0
        ? createResponseCache({ version: sitesVersion, ...config.graphql.responseCache })
        : null,
    bundles: {
      requests: createBundleRequests({ links: bundleLinks, fileName: config.zipFileName }),
      links: bundleLinks,
      fileName: config.zipFileName,
    },
  });
  if (provider) await app.register(provider.routes, { prefix: config.provider.basePath });

  const release = async () => {
    await provider?.close();
    stopWatching();
    await registryStore.close();
    await agent.close();
  };
  let url: URL;
  try {
    url = await listen(app, { host: config.server.host, port: config.server.port });
  } catch (error) {
    await app.close();
    await release();
    throw error;
  }

  if (provider && config.provider.federateAs !== null && provider.demoToken !== null) {
    // The provider is reached over its REST surface like any Moodle: one path, the real protocol.
    const self = new URL(config.provider.basePath, url).toString();
    const selfSite: SiteConfig = {
      id: config.provider.federateAs,
      url: self,
      token: provider.demoToken,
      priority: 0,
      enabled: true,
      tenant: 'default',
      name: config.provider.siteName,
      // Users reach it through its remote-user-synchronization endpoint, with a token made for the gateway.
      kind: 'provider',
      userSync: await selfSyncCredentials(provider.userSyncAdmin, url),
    };
    registry.add(toEntry(selfSite, self));
    users.addSite(selfSite, self);
  }

  return {
    url,
    app,
    registry,
    demoToken: provider?.demoToken ?? null,
    demoAdminKey,
    metrics,
    provider,
    close: () => shutdown({ app, graceMs: config.server.shutdownGraceMs, release, logger }),
  };
}

function linkSecret(config: GatewayConfig, logger: Logger): Uint8Array {
  if (config.downloadLinks.secret !== undefined) return new TextEncoder().encode(config.downloadLinks.secret);
  logger.warn(
    'no downloadLinks.secret (GATEWAY_LINK_SECRET) configured: using a random one, so download links die with this process and are not shared between gateways',
  );
  return randomBytes(32);
}
