import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { UNDICI_TIMER_SLACK_MS } from './agent.js';
import { discardBody } from './discard-body.js';
import { encodeParams, type MoodleParams } from './encode-params.js';
import { fail, type Result } from './failures.js';
import { withNativeSignal } from './native-signal.js';
import {
  mapTransportError,
  parseRestAnswer,
  timeoutFailure,
  tooLargeFailure,
} from './parse-moodle-response.js';
import { readCappedBody } from './read-capped-body.js';
import { redactSecret } from './redact-secret.js';
import { FINAL, type RetryHint, type RetryPolicy, retryDelayMs } from './retry-policy.js';
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
  /**
   * Asks again, within the same deadline, when no byte came back or the site answered 429. Only for
   * idempotent reads: a call that changes something (such as building a zip) must never set it.
   * @default no retry
   */
  readonly retry?: RetryPolicy;
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
    /** The whole call's deadline, for messages, when this attempt has only what earlier ones left. */
    deadlineMs = timeoutMs,
  ): Promise<{ readonly result: Result<unknown>; readonly hint: RetryHint }> {
    // The token travels in the body so that it stays out of every access log on the way.
    const form = new URLSearchParams({ wstoken: site.token, wsfunction, moodlewsrestformat: 'json' });
    encodeParams(params, form);
    const deadline = AbortSignal.timeout(timeoutMs);
    let answered = false;
    try {
      const response = await dispatcher.request({
        origin: endpoint.origin,
        path: endpoint.path,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        signal: signal === undefined ? deadline : AbortSignal.any([signal, deadline]),
        headersTimeout: timeoutMs + UNDICI_TIMER_SLACK_MS,
        bodyTimeout: timeoutMs + UNDICI_TIMER_SLACK_MS,
      });
      answered = true;
      const declared = Number(response.headers['content-length']);
      if (declared > maxResponseBytes) {
        discardBody(response.body);
        return { result: fail(tooLargeFailure(maxResponseBytes)), hint: FINAL };
      }
      const body = await readCappedBody(response.body, maxResponseBytes);
      if (body === undefined) {
        return { result: fail(tooLargeFailure(maxResponseBytes)), hint: FINAL };
      }
      const result = parseRestAnswer(
        { status: response.statusCode, headers: response.headers, body },
        { wsfunction },
      );
      if (response.statusCode === 429 && !result.ok) {
        const seconds = result.failure.retryAfterSeconds;
        return {
          result,
          hint: { kind: 'asked-to-retry', ...(seconds !== undefined && { afterMs: seconds * 1000 }) },
        };
      }
      return { result, hint: FINAL };
    } catch (error) {
      if (signal?.aborted) {
        throw signal.reason;
      }
      if (deadline.aborted) {
        return { result: fail(timeoutFailure(deadlineMs, 'complete answer', error)), hint: FINAL };
      }
      const failure = mapTransportError(error);
      // Refused, or reset before the answer began: nothing came back, so asking again is safe for a read.
      const hint: RetryHint =
        !answered && failure.code === 'UNREACHABLE' ? { kind: 'no-byte-received' } : FINAL;
      return { result: fail(failure), hint };
    }
  }

  /** Attempts within one deadline: each gets the time the previous ones left. */
  async function exchangeWithRetries(
    wsfunction: string,
    params: MoodleParams,
    options: RestCallOptions,
  ): Promise<Result<unknown>> {
    const { retry, signal } = options;
    const deadlineAt = performance.now() + options.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const timeoutMs = Math.max(1, Math.round(deadlineAt - performance.now()));
      const { result, hint } = await exchange(
        wsfunction,
        params,
        { ...options, timeoutMs },
        options.timeoutMs,
      );
      const delay =
        retry === undefined ? undefined : retryDelayMs(retry, attempt, hint, deadlineAt - performance.now());
      if (delay === undefined) {
        return result;
      }
      logger?.debug(
        {
          site: site.id,
          wsfunction,
          attempt: attempt + 1,
          delayMs: delay,
          code: result.ok ? undefined : result.failure.code,
        },
        'moodle call retried',
      );
      try {
        await sleep(delay, undefined, signal === undefined ? {} : { signal });
      } catch (error) {
        throw signal?.aborted ? signal.reason : error;
      }
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
      const result = await exchangeWithRetries(wsfunction, params, withNativeSignal(options));
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
