import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/config-schema.js';
import { createCleanupJob } from '../provider/cleanup-job.js';
import { createProviderRoutes } from '../provider/create-provider-routes.js';
import { createProviderAdmin, type ProviderAdmin } from '../provider/provider-admin.js';
import { seedDemo } from '../provider/seed-demo.js';
import { createSqliteStore } from '../provider/store/sqlite-store.js';

export interface MountedProvider {
  /** The Moodle-compatible routes, to register at the configured base path. */
  readonly routes: FastifyPluginAsync;
  /** Management, for the GraphQL mutations. */
  readonly admin: ProviderAdmin;
  /** The demo account's clear token when the demo was seeded, else null. */
  readonly demoToken: string | null;
  isReady(): boolean;
  /** Stops the cleanup job (waiting for a run in progress) and closes the store. */
  close(): Promise<void>;
}

/** Opens the provider's store (migrations run), seeds the demo when asked, and schedules its cleanup. */
export async function mountProvider(
  config: GatewayConfig['provider'],
  logger: Logger,
): Promise<MountedProvider> {
  const providerLogger = logger.child({ part: 'provider' });
  const store = await createSqliteStore({ dataDir: config.dataDir, logger: providerLogger });
  const maxAgeMs = config.cleanup.maxAgeHours * 3_600_000;
  const admin = createProviderAdmin({
    store,
    limits: { maxUploadBytes: config.maxUploadBytes },
    zipMaxAgeMs: maxAgeMs,
    logger: providerLogger,
  });
  let demoToken: string | null = null;
  try {
    if (config.seedDemo) demoToken = (await seedDemo(admin, { siteName: config.siteName })).token;
  } catch (error) {
    await store.close();
    throw error;
  }
  if (config.federateAs !== null && demoToken === null) {
    providerLogger.warn('provider.federateAs needs provider.seedDemo: the provider is not federated');
  }
  const job = createCleanupJob({ store, cron: config.cleanup.cron, maxAgeMs, logger: providerLogger });
  job.start();

  let open = true;
  return {
    routes: createProviderRoutes({
      store,
      siteName: config.siteName,
      trustedProxies: config.trustedProxies,
      zip: { compression: config.zipCompression },
      logger: providerLogger,
    }),
    admin,
    demoToken,
    isReady: () => open,
    async close() {
      if (!open) return;
      open = false;
      await job.stop();
      await store.close();
    },
  };
}
