import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { discardBody } from './discard-body.js';
import { encodeParams, type MoodleParams } from './encode-params.js';
import { fail, type Result } from './failures.js';
import {
  mapTransportError,
  parseRestAnswer,
  timeoutFailure,
  tooLargeFailure,
} from './parse-moodle-response.js';
import { readCappedBody } from './read-capped-body.js';
import { redactSecret } from './redact-secret.js';
import { type SiteCredentials, siteEndpoint } from './site-endpoint.js';

export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

const RESERVED_PARAMS = new Set(['wstoken', 'wsfunction', 'moodlewsrestformat']);

export interface RestCallOptions {
  /** Deadline for the whole call: connecting, the headers and the whole body. */
  readonly timeoutMs: number;
  /** The caller's own cancellation: it propagates as a rejection with the signal's reason, not as a failure. */
  readonly signal?: AbortSignal;
  /**
   * A longer answer is a BAD_RESPONSE.
   * @default 4 MiB
   */
  readonly maxResponseBytes?: number;
}

export interface RestClient {
  /**
   * Calls a web-service function. Resolves to its decoded JSON value or a typed failure; rejects only
   * when the caller's signal aborts.
   */
  call(wsfunction: string, params: MoodleParams, options: RestCallOptions): Promise<Result<unknown>>;
}

export interface RestClientOptions {
  /** The process's undici Agent (or any dispatcher). */
  readonly dispatcher: Dispatcher;
  readonly site: SiteCredentials;
  readonly logger?: Logger;
}

export function createRestClient({ dispatcher, site, logger }: RestClientOptions): RestClient {
  const endpoint = siteEndpoint(site.url, '/webservice/rest/server.php');

  async function exchange(
    wsfunction: string,
    params: MoodleParams,
    { timeoutMs, signal, maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES }: RestCallOptions,
  ): Promise<Result<unknown>> {
    // The token travels in the body so that it stays out of every access log on the way.
    const form = new URLSearchParams({ wstoken: site.token, wsfunction, moodlewsrestformat: 'json' });
    encodeParams(params, form);
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const response = await dispatcher.request({
        origin: endpoint.origin,
        path: endpoint.path,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        signal: signal === undefined ? deadline : AbortSignal.any([signal, deadline]),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const declared = Number(response.headers['content-length']);
      if (declared > maxResponseBytes) {
        discardBody(response.body);
        return fail(tooLargeFailure(maxResponseBytes));
      }
      const body = await readCappedBody(response.body, maxResponseBytes);
      if (body === undefined) {
        return fail(tooLargeFailure(maxResponseBytes));
      }
      return parseRestAnswer(
        { status: response.statusCode, headers: response.headers, body },
        { wsfunction },
      );
    } catch (error) {
      if (signal?.aborted) {
        throw signal.reason;
      }
      return fail(
        deadline.aborted ? timeoutFailure(timeoutMs, 'complete answer', error) : mapTransportError(error),
      );
    }
  }

  return {
    async call(wsfunction, params, options) {
      options.signal?.throwIfAborted();
      for (const name of Object.keys(params)) {
        if (RESERVED_PARAMS.has(name)) {
          throw new TypeError(`${name} is set by the client, not a parameter of ${wsfunction}`);
        }
      }
      const started = performance.now();
      const result = await exchange(wsfunction, params, options);
      const ms = Math.round(performance.now() - started);
      if (result.ok) {
        logger?.debug({ site: site.id, wsfunction, ms }, 'moodle call succeeded');
        return result;
      }
      const failure = redactSecret(result.failure, site.token);
      logger?.info(
        { site: site.id, wsfunction, ms, code: failure.code, remoteErrorCode: failure.remoteErrorCode },
        `moodle call failed: ${failure.message}`,
      );
      return fail(failure);
    },
  };
}
