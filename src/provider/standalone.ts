import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { type Logger, pino } from 'pino';
import { type CleanupJobOptions, createCleanupJob } from './cleanup-job.js';
import { createProviderRoutes, type ProviderRoutesOptions } from './create-provider-routes.js';
import type { ProviderStore } from './store/repository.js';
import { createSqliteStore } from './store/sqlite-store.js';

export interface StandaloneProviderOptions extends Omit<ProviderRoutesOptions, 'store' | 'logger'> {
  /** Holds the SQLite file and the blob directory; created when missing. */
  readonly dataDir: string;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  /**
   * Where the Moodle paths sit, like a Moodle installed in a sub-directory (`/moodle`).
   * @default '' (at the root, as a Moodle on its own host)
   */
  readonly basePath?: string;
  /** @default a silent logger */
  readonly logger?: Logger;
  /**
   * The provider's scheduled zip cleanup; `false` leaves zips until `close()` (tests that inspect them).
   * @default { cron: '0 * * * *', maxAgeMs: 24 h }
   */
  readonly cleanup?: Omit<CleanupJobOptions, 'store' | 'logger'> | false;
  /** @default 1 MiB */
  readonly bodyLimit?: number;
  /**
   * How long `close()` lets requests in flight (a download) finish before cutting their connections.
   * @default 10_000
   */
  readonly closeGraceMs?: number;
}

export interface StandaloneProvider {
  /** The site URL a client configures (no trailing slash). */
  readonly url: string;
  readonly store: ProviderStore;
  /** Stops accepting requests, waits for those in flight, stops the cleanup and closes the store. */
  close(): Promise<void>;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Runs the local provider alone on its own HTTP server, as a Moodle would: the gateway's tests
 * federate several of these, and a deployment may run one apart from the gateway.
 */
export async function startStandaloneProvider(
  options: StandaloneProviderOptions,
): Promise<StandaloneProvider> {
  const {
    dataDir,
    host = '127.0.0.1',
    port = 0,
    basePath = '',
    logger = pino({ level: 'silent' }),
    cleanup = {},
    bodyLimit = 1024 * 1024,
    closeGraceMs = 10_000,
    clock,
    trustedProxies = [],
    ...routeOptions
  } = options;
  const prefix = basePath.replace(/\/+$/, '');
  const store = await createSqliteStore({ dataDir, logger, clock });
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Fastify's own request lines carry the query string, where the download's token travels.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    trustProxy: trustedProxies.length > 0 ? [...trustedProxies] : false,
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, path: request.url.split('?', 1)[0], status: reply.statusCode },
      'request',
    );
  });
  await app.register(createProviderRoutes({ ...routeOptions, store, clock, trustedProxies, logger }), {
    prefix,
  });

  // Node counts a connection that never sent a request (a client's spare or preconnected socket) as
  // busy, so server.close() would wait for it forever; close() ends those at once.
  const unused = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    unused.add(socket);
    socket.once('close', () => unused.delete(socket));
  });
  app.server.on('request', (request: IncomingMessage) => unused.delete(request.socket));

  const job = cleanup === false ? null : createCleanupJob({ ...cleanup, store, logger });
  try {
    await app.listen({ host, port });
  } catch (error) {
    await app.close();
    await store.close();
    throw error;
  }
  job?.start();
  const address = app.server.address() as AddressInfo;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${hostForUrl(host)}:${address.port}${prefix}`,
    store,
    close() {
      closing ??= (async () => {
        await job?.stop();
        const closed = app.close();
        for (const socket of unused) socket.destroy();
        const cut = setTimeout(() => app.server.closeAllConnections(), closeGraceMs);
        try {
          await closed;
        } finally {
          clearTimeout(cut);
        }
        await store.close();
      })();
      return closing;
    },
  };
}
