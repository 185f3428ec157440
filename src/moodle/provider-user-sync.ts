import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { SyncUserRequest, UserSynced, UserSyncTarget } from '../gateway/user-sync.js';
import { discardBody } from './discard-body.js';
import { fail, ok, type Result, type SiteFailure, siteFailure } from './failures.js';
import { failureOfAnswer, mapTransportError, timeoutFailure } from './parse-moodle-response.js';
import { readCappedBody } from './read-capped-body.js';
import { redactSecret } from './redact-secret.js';
import { siteEndpoint } from './site-endpoint.js';

/** The paths of the provider's remote-user-synchronization endpoint (Claroline's contract). */
export const PROVIDER_USER_SYNC_PATH = '/remote-user-synchronization/remote/user/sync';
export const PROVIDER_USER_LOOKUP_PATH = '/remote-user-synchronization/remote/user/find';
export const USER_SYNC_CHANGED_HEADER = 'x-remote-user-sync-changed';

/** Its answers are a few words; anything longer is not the endpoint speaking. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface ProviderUserSyncCredentials {
  /** The security token's client name. */
  readonly client: string;
  /** The security token itself: a secret. */
  readonly token: string;
}

export interface ProviderUserSyncOptions {
  readonly site: { readonly id: string; readonly url: string };
  /** `null` when the site has none configured: every synchronization is then refused as ACCESS_DENIED. */
  readonly credentials: ProviderUserSyncCredentials | null;
  /** The process's undici Agent. */
  readonly dispatcher: Dispatcher;
  /** All the calls of one synchronization together. @default 30_000 */
  readonly deadlineMs?: number;
  readonly logger?: Logger;
}

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/**
 * Pushes a user to a local provider (or any platform serving Claroline's remote-user-synchronization
 * contract): the username is looked up first, so the call updates (`userId`) or creates as it must.
 */
export function createProviderUserSync(options: ProviderUserSyncOptions): UserSyncTarget {
  const { site, credentials, dispatcher, deadlineMs = 30_000, logger } = options;
  const syncEndpoint = siteEndpoint(site.url, PROVIDER_USER_SYNC_PATH);
  const lookupEndpoint = siteEndpoint(site.url, PROVIDER_USER_LOOKUP_PATH);

  async function post(
    endpoint: { origin: string; path: string },
    body: Record<string, unknown>,
    deadlineAt: number,
    signal: AbortSignal | undefined,
  ): Promise<Result<Answer>> {
    const timeoutMs = Math.max(1, Math.round(deadlineAt - performance.now()));
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const response = await dispatcher.request({
        origin: endpoint.origin,
        path: endpoint.path,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/plain' },
        body: JSON.stringify(body),
        signal: signal === undefined ? deadline : AbortSignal.any([signal, deadline]),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      if (Number(response.headers['content-length']) > MAX_ANSWER_BYTES) {
        discardBody(response.body);
        return fail(siteFailure('BAD_RESPONSE', 'Unexpected answer from the site: far too long'));
      }
      const text = await readCappedBody(response.body, MAX_ANSWER_BYTES);
      if (text === undefined)
        return fail(siteFailure('BAD_RESPONSE', 'Unexpected answer from the site: far too long'));
      return ok({ status: response.statusCode, text, headers: response.headers });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      return fail(
        deadline.aborted ? timeoutFailure(timeoutMs, 'complete answer', error) : mapTransportError(error),
      );
    }
  }

  const accessDenied = () =>
    siteFailure(
      'ACCESS_DENIED',
      `The site refused the gateway's security token (Access Denied): check the site's userSync client and token, and the address the token is allowed from`,
    );

  /** Anything but the endpoint's own answers: a 503, an HTML page, a platform without the endpoint. */
  function unexpected(answer: Answer, what: string): SiteFailure {
    if (answer.status === 404 || answer.status === 405) {
      return siteFailure(
        'FUNCTION_UNAVAILABLE',
        `The site does not serve remote user synchronization (${what} answered HTTP ${answer.status})`,
      );
    }
    return failureOfAnswer({ status: answer.status, headers: answer.headers, body: answer.text });
  }

  const isId = (text: string) => /^\d{1,15}$/.test(text.trim());

  async function lookup(
    credentials: ProviderUserSyncCredentials,
    username: string,
    deadlineAt: number,
    signal: AbortSignal | undefined,
  ): Promise<Result<number | null>> {
    const answered = await post(lookupEndpoint, { ...credentials, username }, deadlineAt, signal);
    if (!answered.ok) return answered;
    const answer = answered.value;
    if (answer.status === 200 && isId(answer.text)) return ok(Number(answer.text.trim()));
    if (answer.status === 404 && answer.text === 'Not found') return ok(null);
    if (answer.status === 403) return fail(accessDenied());
    return fail(unexpected(answer, 'the user lookup'));
  }

  async function push(
    credentials: ProviderUserSyncCredentials,
    request: SyncUserRequest,
    userId: number | null,
    deadlineAt: number,
    signal: AbortSignal | undefined,
  ): Promise<Result<Answer>> {
    const body = {
      ...credentials,
      username: request.username,
      firstName: request.firstName,
      lastName: request.lastName,
      email: request.email,
      password: request.password,
      workspaces: request.workspaces.map(({ workspace, role }) => ({ [workspace]: role })),
      ...(userId === null ? {} : { userId }),
    };
    return post(syncEndpoint, body, deadlineAt, signal);
  }

  function refusal(answer: Answer, userId: number | null): SiteFailure {
    if (answer.status === 403) return accessDenied();
    if (answer.status === 404 && answer.text === 'Not found') {
      return siteFailure(
        'USER_NOT_FOUND',
        `The user (id ${userId}) went away on the site during the synchronization`,
      );
    }
    if (answer.status === 400 && answer.text === 'User edition error') {
      return siteFailure(
        'REMOTE_ERROR',
        'The site refused the user (User edition error): the username or e-mail belongs to another user, ' +
          'a value is invalid (usernames are lower case; passwords have at least 8 characters), ' +
          'or a workspace or role is unknown there. Nothing was changed.',
        { remoteErrorCode: 'User edition error' },
      );
    }
    if (answer.status === 400 && answer.text === 'Bad Request') {
      return siteFailure('REMOTE_ERROR', 'The site refused the request as malformed (Bad Request)', {
        remoteErrorCode: 'Bad Request',
      });
    }
    return unexpected(answer, 'the synchronization');
  }

  async function synchronize(
    request: SyncUserRequest,
    signal: AbortSignal | undefined,
  ): Promise<Result<UserSynced>> {
    if (credentials === null) {
      return fail(
        siteFailure(
          'ACCESS_DENIED',
          `No security token is configured for ${site.id} (userSync.client and userSync.token)`,
        ),
      );
    }
    const deadlineAt = performance.now() + deadlineMs;
    const found = await lookup(credentials, request.username, deadlineAt, signal);
    if (!found.ok) return found;
    let userId = found.value;
    let answered = await push(credentials, request, userId, deadlineAt, signal);
    if (!answered.ok) return answered;
    if (userId === null && answered.value.status === 400) {
      // Someone may have created the same user between the lookup and the creation.
      const again = await lookup(credentials, request.username, deadlineAt, signal);
      if (again.ok && again.value !== null) {
        userId = again.value;
        answered = await push(credentials, request, userId, deadlineAt, signal);
        if (!answered.ok) return answered;
      }
    }
    const answer = answered.value;
    if (answer.status !== 200) return fail(refusal(answer, userId));
    if (!isId(answer.text)) {
      return fail(
        siteFailure('BAD_RESPONSE', 'Unexpected answer from the site: a success without a user id'),
      );
    }
    const changed = answer.headers[USER_SYNC_CHANGED_HEADER];
    return ok({ userId: Number(answer.text.trim()), created: userId === null, changed: changed !== 'false' });
  }

  return {
    deadlineMs,
    async syncUser(request, callOptions = {}) {
      callOptions.signal?.throwIfAborted();
      const result = await synchronize(request, callOptions.signal);
      if (result.ok) return result;
      let failure = result.failure;
      for (const secret of [request.password, credentials?.token ?? ''])
        failure = redactSecret(failure, secret);
      logger?.debug({ site: site.id, code: failure.code }, `provider user sync failed: ${failure.message}`);
      return fail(failure);
    },
  };
}
