import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics } from './metrics.js';

/**
 * `GET /metrics` in Prometheus' text format, and the HTTP request histogram. Routes are labelled
 * by their pattern (`/download/:link`), never the URL, which would leak link capabilities and grow
 * without bound.
 */
export function registerMetricsRoute(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequest({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
      seconds: reply.elapsedTime / 1000,
    });
  });
  app.get('/metrics', async (_request, reply) =>
    reply
      .header('content-type', metrics.contentType)
      .header('cache-control', 'no-store')
      .send(await metrics.render()),
  );
}
