import { createFetch } from '@whatwg-node/fetch';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { GraphQLSchema } from 'graphql';
import { createYoga } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Policy } from '../auth/policy.js';
import { type AnswerFreshness, createAnswerFreshness } from '../gateway/answer-freshness.js';
import type { BundleLinks } from '../gateway/bundle-links.js';
import type { BundleRequests } from '../gateway/bundle-requests.js';
import { createLoaders } from '../gateway/loaders.js';
import type { PrivateFiles } from '../gateway/private-files.js';
import type { SignedLinks } from '../gateway/signed-links.js';
import type { SiteHub } from '../gateway/site-hub.js';
import type { SiteInfoCache } from '../gateway/site-info-cache.js';
import type { SiteRegistry } from '../gateway/site-registry.js';
import type { UserSync } from '../gateway/user-sync.js';
import type { ZipFileNameOptions } from '../gateway/zip-file-name.js';
import type { ProviderAdmin } from '../provider/provider-admin.js';
import type { UserSyncAdmin } from '../provider/user-sync/user-sync-admin.js';
import type { GraphQLContext } from '../schema/context.js';
import { registerBundleRoute } from './bundle-route.js';
import { createConcurrencySlots } from './concurrency-slots.js';
import { registerDownloadRoute } from './download-route.js';
import { answerError, registerErrorHandlers } from './error-handlers.js';
import type { Readiness } from './health.js';
import { loggablePath } from './logger.js';
import type { GatewayMetrics } from './metrics.js';
import { registerMetricsRoute } from './metrics-route.js';
import { registerPage } from './page-route.js';
import { registerRequestContext, requestIdFor } from './request-context.js';
import type { ResponseCache } from './response-cache.js';
import { type GraphQLLimits, graphqlHardening, registerSecurity, type SecurityOptions } from './security.js';
import { createUploadGate } from './upload-gate.js';
import { useAnswerReuse } from './use-answer-reuse.js';
import { useGraphQLMetrics } from './use-graphql-metrics.js';
import { useStableErrorCodes } from './use-stable-error-codes.js';

export interface AppDependencies {
  readonly schema: GraphQLSchema;
  readonly registry: SiteRegistry;
  readonly siteInfoCache: SiteInfoCache;
  readonly privateFiles: PrivateFiles;
  readonly links: SignedLinks;
  readonly logger: Logger;
  /** The URL callers reach the gateway at; derived from each request when absent. */
  readonly publicUrl?: string;
  /** @default true */
  readonly graphiql?: boolean;
  /** Authentication, rate limits and CORS; the rules of `policy` decide the rest. */
  readonly security: SecurityOptions & { readonly policy: Policy; readonly downloadsPerUser: number };
  readonly graphql: GraphQLLimits & {
    /** Operations in one batched request; 0 refuses batches. */
    readonly maxBatch: number;
    readonly maxBodyBytes: number;
    /** Largest uploaded file (multipart); Yoga holds a file in memory up to this while parsing. */
    readonly maxUploadBytes: number;
    /** Uploads read at once (administrators' only). */
    readonly maxConcurrentUploads: number;
  };
  /** The local provider's management, when the provider runs in this process. */
  readonly providerAdmin?: ProviderAdmin | null;
  /** Pushes users to the sites (`syncUser`). */
  readonly userSync?: UserSync;
  /** The local provider's security tokens, workspaces and registrations, when it runs in this process. */
  readonly userSyncAdmin?: UserSyncAdmin | null;
  /** Answers `/readyz`: our own store and config only, never a remote site. */
  readonly isReady?: () => boolean;
  /** Answers `/readyz` with each check and the sites' last known health; wins over `isReady`. */
  readonly readiness?: Readiness;
  /** Serves `/metrics` and counts GraphQL operations and HTTP requests when given. */
  readonly metrics?: GatewayMetrics;
  /** The site registry's management (tenants, registered sites). */
  readonly hub?: SiteHub;
  /** Answers again the queries that may be (`src/schema/reusable-fields.ts`) while still exact. */
  readonly responseCache?: ResponseCache | null;
  /** The all-sites bundle: its links (GraphQL) and its route. */
  readonly bundles?: {
    readonly requests: BundleRequests;
    readonly links: BundleLinks;
    readonly fileName: ZipFileNameOptions;
  };
}

const JSON_BODY = /^application\/(?:graphql-response\+)?json\b/i;

interface ServerContext {
  readonly req: FastifyRequest;
  readonly reply: FastifyReply;
  readonly freshness: AnswerFreshness;
}

/** Builds the HTTP app (GraphQL, downloads, health). It never listens: `http.ts` hosts it. */
export async function createApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { schema, registry, siteInfoCache, privateFiles, links, logger, publicUrl, metrics } = deps;
  const responseCache = deps.responseCache ?? null;
  const uploads = createUploadGate(deps.security.policy, deps.graphql.maxConcurrentUploads);
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Fastify's own request lines carry the full URL; ours leave out query strings and link capabilities.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.graphql.maxBodyBytes,
    // Download links carry their signed grant in the path.
    routerOptions: { maxParamLength: 4096 },
    frameworkErrors: answerError,
    genReqId: requestIdFor,
  });
  registerRequestContext(app);
  registerErrorHandlers(app);
  await registerSecurity(app, deps.security);
  if (deps.metrics) registerMetricsRoute(app, deps.metrics);

  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        path: loggablePath(request.url),
        status: reply.statusCode,
        ms: reply.elapsedTime,
      },
      'request',
    );
  });

  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    // CORS is answered by the host (configured origins only); Yoga's own default would allow any.
    cors: false,
    graphiql: deps.graphiql ?? true,
    landingPage: false,
    fetchAPI: createFetch({
      formDataLimits: {
        fileSize: deps.graphql.maxUploadBytes,
        files: 1,
        fields: 10,
        fieldSize: deps.graphql.maxBodyBytes,
      },
    }),
    batching: deps.graphql.maxBatch > 0 ? { limit: deps.graphql.maxBatch } : false,
    plugins: [
      ...graphqlHardening(deps.graphql),
      useStableErrorCodes(),
      ...(metrics ? [useGraphQLMetrics({ onOperation: metrics.graphqlOperation })] : []),
      ...(responseCache ? [useAnswerReuse()] : []),
    ],
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      error: (...args) => logger.error({ err: args.find((arg) => arg instanceof Error) }, 'graphql error'),
    },
    context: ({ req, request, freshness }) => {
      const baseUrl = publicUrl ?? `${req.protocol}://${req.host}`;
      // Fastify's own child of `logger` for this request, already bound to its id.
      const requestLogger = req.log as Logger;
      return {
        caller: req.caller,
        policy: deps.security.policy,
        tenant: req.caller.tenant,
        providerAdmin: deps.providerAdmin ?? null,
        ...(deps.userSync && { userSync: deps.userSync }),
        userSyncAdmin: deps.userSyncAdmin ?? null,
        ...(deps.hub && { hub: deps.hub }),
        ...(deps.bundles && { bundles: deps.bundles.requests }),
        registry,
        privateFiles,
        baseUrl,
        logger: requestLogger,
        freshness,
        loaders: createLoaders({ siteInfoCache, signal: request.signal, logger: requestLogger, freshness }),
      };
    },
  });

  // Yoga reads multipart bodies (file uploads) itself.
  app.addContentTypeParser('multipart/form-data', {}, (_request, _payload, done) => done(null));

  app.route({
    url: yoga.graphqlEndpoint,
    method: ['GET', 'POST', 'OPTIONS'],
    handler: async (req, reply) => {
      const upload = uploads.enter(req, reply);
      if (upload === null) return answerGraphQL(req, reply);
      if (upload.refused) return reply;
      try {
        return await answerGraphQL(req, reply);
      } finally {
        upload.release();
      }
    },
  });

  async function answerGraphQL(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const slot = responseCache?.slotOf(req) ?? null;
    if (slot !== null && responseCache !== null) {
      const started = performance.now();
      const kept = responseCache.get(slot);
      metrics?.responseCacheLookup(kept !== undefined);
      if (kept !== undefined) {
        const seconds = (performance.now() - started) / 1000;
        metrics?.graphqlOperation({ type: 'query', name: kept.operationName, outcome: 'ok', seconds });
        return reply.header('content-type', kept.contentType).send(kept.body);
      }
    }
    const freshness = createAnswerFreshness();
    const response = await yoga.handleNodeRequestAndResponse(req, reply, { req, reply, freshness });
    response.headers.forEach((value, key) => {
      reply.header(key, value);
    });
    reply.status(response.status);
    // A refused upload is not read to its end: closing the connection is what lets the client see the answer.
    if (response.status === 413) reply.header('connection', 'close');
    // A regular result is one JSON text Yoga already holds: sent as it is, it spares a stream per
    // request. Event streams and multipart answers stream.
    const type = response.headers.get('content-type') ?? '';
    if (!JSON_BODY.test(type)) return reply.send(response.body);
    const body = await response.text();
    if (slot !== null && response.status === 200) {
      responseCache?.keep(
        slot,
        { body, contentType: type, operationName: freshness.operationName },
        freshness,
      );
    }
    return reply.send(body);
  }

  registerPage(app);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (deps.readiness) {
      const { ready, checks, sites } = await deps.readiness.report();
      reply.header('cache-control', 'no-store');
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks, sites });
    }
    const ready = deps.isReady?.() ?? true;
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
  });

  const slots = createConcurrencySlots(deps.security.downloadsPerUser);
  registerDownloadRoute(app, { links, registry, logger, slots });
  if (deps.bundles) {
    const { links: bundleLinks, fileName } = deps.bundles;
    registerBundleRoute(app, { links: bundleLinks, registry, siteInfoCache, fileName, logger, slots });
  }
  return app;
}
