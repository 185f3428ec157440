import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
}

/** Listens and answers the URL to reach the app from this machine. */
export async function listen(app: FastifyInstance, { host, port }: ListenOptions): Promise<URL> {
  await app.listen({ host, port });
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  const reachable = ['0.0.0.0', '::', 'localhost'].includes(host) ? '127.0.0.1' : host;
  return new URL(`http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${boundPort}`);
}

export interface ShutdownOptions {
  readonly app: FastifyInstance;
  /** In-flight requests and downloads get this long to finish. @default 10000 */
  readonly graceMs?: number;
  /** Closes what the app used (cron, pools, store), after the server stopped. */
  readonly release?: () => Promise<void>;
  readonly logger: Logger;
}

const IDLE_SWEEP_MS = 100;

/** Stops accepting, lets in-flight work finish up to the grace period, then cuts what is left. */
export async function shutdown({ app, graceMs = 10_000, release, logger }: ShutdownOptions): Promise<void> {
  const timer = setTimeout(() => {
    logger.warn({ graceMs }, 'grace period over: closing the connections still open');
    app.server.closeAllConnections();
  }, graceMs);
  // Closing the server only ends the connections idle at that moment; a keep-alive connection whose
  // request (a download) ends later would hold the process until the grace period. Sweep them.
  const sweeper = setInterval(() => app.server.closeIdleConnections(), IDLE_SWEEP_MS);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
    clearInterval(sweeper);
    await release?.();
  }
}
