import type { FastifyBaseLogger } from 'fastify';

/** The little the provider logs with; a pino logger or Fastify's `app.log` both fit. */
export type ProviderLogger = Pick<FastifyBaseLogger, 'debug' | 'info' | 'warn' | 'error'>;
