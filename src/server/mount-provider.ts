import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/config-schema.js';
import { type CleanupRunEvent, createCleanupJob } from '../provider/cleanup-job.js';
import { createProviderRoutes } from '../provider/create-provider-routes.js';
import { observeZipBuilder, type ZipBuildEvent } from '../provider/observed-zip-builder.js';
import { createProviderAdmin, type ProviderAdmin } from '../provider/provider-admin.js';
import { seedDemo } from '../provider/seed-demo.js';
import type { ProviderStore } from '../provider/store/repository.js';
import { createSqliteStore } from '../provider/store/sqlite-store.js';
import { createUserSyncAdmin, type UserSyncAdmin } from '../provider/user-sync/user-sync-admin.js';
import { buildPrivateFilesZip } from '../provider/zip-builder.js';

export interface MountedProvider {
  /** The Moodle-compatible routes, to register at the configured base path. */
  readonly routes: FastifyPluginAsync;
  /** Management, for the GraphQL mutations. */
  readonly admin: ProviderAdmin;
  /** Security tokens, workspaces and registrations of remote user synchronization. */
  readonly userSyncAdmin: UserSyncAdmin;
  /** The demo account's clear token when the demo was seeded, else null. */
  readonly demoToken: string | null;
  readonly store: ProviderStore;
  isReady(): boolean;
  /** Rejects when the store cannot answer a query (closed, file gone): `/readyz`'s store check. */
  checkStore(): Promise<void>;
  /** Stops the cleanup job (waiting for a run in progress) and closes the store. */
  close(): Promise<void>;
}

/** Opens the provider's store (migrations run), seeds the demo when asked, and schedules its cleanup. */
export interface ProviderObservers {
  readonly zipBuilt?: (event: ZipBuildEvent) => void;
  readonly cleanupRan?: (event: CleanupRunEvent) => void;
}

export async function mountProvider(
  config: GatewayConfig['provider'],
  logger: Logger,
  observers: ProviderObservers = {},
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
  const job = createCleanupJob({
    store,
    cron: config.cleanup.cron,
    maxAgeMs,
    logger: providerLogger,
    ...(observers.cleanupRan && { onRun: observers.cleanupRan }),
  });
  job.start();

  let open = true;
  return {
    routes: createProviderRoutes({
      store,
      siteName: config.siteName,
      trustedProxies: config.trustedProxies,
      zip: { compression: config.zipCompression },
      logger: providerLogger,
      ...(observers.zipBuilt && { buildZip: observeZipBuilder(buildPrivateFilesZip, observers.zipBuilt) }),
    }),
    admin,
    userSyncAdmin: createUserSyncAdmin({ store, logger: providerLogger }),
    demoToken,
    store,
    isReady: () => open,
    async checkStore() {
      if (!open) throw new Error('the provider is shut down');
      await store.users.getById(0);
    },
    async close() {
      if (!open) return;
      open = false;
      await job.stop();
      await store.close();
    },
  };
}
