import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
import type { ClientIpResolver } from '../rest/client-ip.js';
import type { ProviderLogger } from '../rest/provider-logger.js';
import type { ProviderStore } from '../store/repository.js';
import { createSecurityTokenCheck } from './check-security-token.js';
import { parseSyncRequest } from './parse-sync-request.js';
import { createRemoteUserSync } from './sync-remote-user.js';
import { USER_SYNC_ANSWERS, USER_SYNC_CHANGED_HEADER, type UserSyncRefusal } from './user-sync-answers.js';

/** Claroline's remote-user-synchronization endpoint. */
export const USER_SYNC_PATH = '/remote-user-synchronization/remote/user/sync';
/**
 * Our addition, under the same security: `{client, token, username}` → 200 with the user's id, or
 * 404 `Not found`. A stateless caller (the gateway) learns with it whether to send a `userId`.
 */
export const USER_LOOKUP_PATH = '/remote-user-synchronization/remote/user/find';

export interface UserSyncRoutesOptions {
  readonly store: ProviderStore;
  /** The provider's resolver, so trusted proxies apply here as they do to web-service tokens. */
  readonly clientIp: ClientIpResolver;
  readonly logger: ProviderLogger;
  /** @default 262_144 (256 KiB: a user with a few thousand workspaces) */
  readonly bodyLimit?: number;
}

/** What a body that is not a JSON object parses to: the request is a `Bad Request`. */
const NOT_AN_OBJECT = Symbol('not a JSON object');

const TEXT = 'text/plain; charset=utf-8';

function send(reply: FastifyReply, answer: UserSyncRefusal): FastifyReply {
  return reply.code(answer.status).type(TEXT).send(answer.body);
}

function bodyOf(request: FastifyRequest): Readonly<Record<string, unknown>> | null {
  const body = request.body as unknown;
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : null;
}

/**
 * The endpoint as an encapsulated Fastify plugin, registered inside the provider's routes (so under
 * its prefix). Only JSON bodies are read; the password in them is never logged.
 */
export function createUserSyncRoutes(options: UserSyncRoutesOptions): FastifyPluginAsync {
  const { store, clientIp, logger, bodyLimit = 262_144 } = options;
  const security = createSecurityTokenCheck(store);
  const remoteUserSync = createRemoteUserSync({ store, logger });

  return async function userSyncRoutes(app: FastifyInstance) {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_request, raw, done) => {
      try {
        const value: unknown = JSON.parse(raw as string);
        done(
          null,
          typeof value === 'object' && value !== null && !Array.isArray(value) ? value : NOT_AN_OBJECT,
        );
      } catch {
        done(null, NOT_AN_OBJECT);
      }
    });
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, _raw, done) =>
      done(null, NOT_AN_OBJECT),
    );
    app.setErrorHandler((error: FastifyError, _request, reply) => {
      const status = error.statusCode ?? 500;
      if (status >= 500) logger.error({ err: error }, 'user synchronization failed');
      return reply
        .code(status)
        .type(TEXT)
        .send(status === 413 ? 'Payload Too Large' : status >= 500 ? 'Internal Server Error' : 'Bad Request');
    });

    /** The body when the caller holds a security token; otherwise the reply was sent. */
    async function authorised(request: FastifyRequest, reply: FastifyReply) {
      const body = bodyOf(request);
      if (body === null) {
        send(reply, USER_SYNC_ANSWERS.badRequest);
        return null;
      }
      const ip = clientIp(request);
      const checked = await security.check(body.client, body.token, ip);
      if (!checked.ok) {
        logger.info(
          {
            client: typeof body.client === 'string' ? body.client.slice(0, 100) : undefined,
            ip,
            reason: checked.reason,
          },
          'user synchronization refused: access denied',
        );
        send(reply, USER_SYNC_ANSWERS.accessDenied);
        return null;
      }
      return body;
    }

    app.post(USER_SYNC_PATH, async (request, reply) => {
      const body = await authorised(request, reply);
      if (body === null) return reply;
      const parsed = parseSyncRequest(body);
      if (parsed === null) return send(reply, USER_SYNC_ANSWERS.badRequest);
      const answer = await remoteUserSync.sync(parsed);
      if (!answer.ok) {
        logger.info({ client: body.client, why: answer.why }, 'user synchronization refused');
        return send(reply, answer.refusal);
      }
      return reply
        .code(200)
        .type(TEXT)
        .header(USER_SYNC_CHANGED_HEADER, String(answer.changed))
        .send(String(answer.userId));
    });

    app.post(USER_LOOKUP_PATH, async (request, reply) => {
      const body = await authorised(request, reply);
      if (body === null) return reply;
      if (typeof body.username !== 'string' || body.username === '') {
        return send(reply, USER_SYNC_ANSWERS.badRequest);
      }
      const user = await store.users.getByUsername(body.username);
      if (!user) return send(reply, USER_SYNC_ANSWERS.notFound);
      return reply.code(200).type(TEXT).send(String(user.id));
    });
  };
}
