import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { type Authenticate, AuthenticationError } from '../auth/authenticate.js';
import { type Caller, callerLabel } from '../auth/caller.js';

export interface SecurityOptions {
  readonly authenticate: Authenticate;
  /** Requests per caller per window; 0 turns limiting off. */
  readonly rateLimit: { readonly max: number; readonly windowMs: number };
  /** Browser origins allowed to call; empty: none but the gateway's own pages. */
  readonly corsOrigins: readonly string[];
}

export interface GraphQLLimits {
  readonly maxDepth: number;
  readonly maxCost: number;
  readonly maxAliases: number;
  readonly maxTokens: number;
  readonly maxDirectives: number;
  readonly introspection: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

/**
 * Who is calling (every request, before anything else), how often they may, and from which origins.
 * Provider routes speak Moodle's protocol and check Moodle tokens themselves; download links are
 * capabilities: neither needs a bearer, but both are rate limited.
 */
export async function registerSecurity(app: FastifyInstance, options: SecurityOptions): Promise<void> {
  app.decorateRequest('caller', undefined as never);
  app.addHook('onRequest', async (request, reply) => {
    const needsBearer = request.url === '/graphql' || request.url.startsWith('/graphql?');
    try {
      request.caller = await options.authenticate(
        needsBearer ? request.headers.authorization : undefined,
        request.ip,
      );
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      request.log.info({ ip: request.ip, reason: error.message }, 'authentication refused');
      return reply
        .status(401)
        .header('www-authenticate', 'Bearer error="invalid_token"')
        .send({ errors: [{ message: error.message, extensions: { code: 'UNAUTHENTICATED' } }] });
    }
  });

  if (options.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: [...options.corsOrigins],
      methods: ['GET', 'POST', 'OPTIONS'],
      maxAge: 600,
    });
  }

  if (options.rateLimit.max > 0) {
    await app.register(rateLimit, {
      max: options.rateLimit.max,
      timeWindow: options.rateLimit.windowMs,
      // After onRequest, so the caller is known: a key or a user is limited as itself, anonymous by IP.
      hook: 'preHandler',
      keyGenerator: (request: FastifyRequest) => callerLabel(request.caller),
      // The answer itself (code, message) comes from the app's error handler; Retry-After says when.
      errorResponseBuilder: () => ({ statusCode: 429 }),
    });
  }
}

/** Query limits (depth, cost, aliases, tokens, directives), no field suggestions, introspection as configured. */
export function graphqlHardening(limits: GraphQLLimits): Plugin[] {
  const armor = EnvelopArmorPlugin({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true },
    costLimit: { maxCost: limits.maxCost, ignoreIntrospection: true },
    maxAliases: { n: limits.maxAliases },
    maxTokens: { n: limits.maxTokens },
    maxDirectives: { n: limits.maxDirectives },
    blockFieldSuggestion: { enabled: true },
  });
  const plugins: Plugin[] = [armor as Plugin];
  if (!limits.introspection) {
    plugins.push({
      onValidate: ({ addValidationRule }) => {
        addValidationRule(NoSchemaIntrospectionCustomRule);
      },
    });
  }
  return plugins;
}
