import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { RemoteDownload } from '../gateway/site.js';
import { UNDICI_TIMER_SLACK_MS } from './agent.js';
import { discardBody } from './discard-body.js';
import { fail, ok, type Result, siteFailure } from './failures.js';
import { withNativeSignal } from './native-signal.js';
import {
  failureOfAnswer,
  headerValue,
  mapTransportError,
  timeoutFailure,
  tooLargeFailure,
} from './parse-moodle-response.js';
import { peekBytes } from './peek-bytes.js';
import { readCappedBody } from './read-capped-body.js';
import { redactSecret } from './redact-secret.js';
import { type SiteCredentials, siteEndpoint } from './site-endpoint.js';

const DOWNLOAD_SCRIPT = '/blocks/my_external_privatefiles/get_user_draft_file_webservice.php';

const ZIP_TYPES: ReadonlySet<string> = new Set([
  'application/zip',
  'application/x-zip',
  'application/x-zip-compressed',
]);

const JSON_TYPES: ReadonlySet<string> = new Set(['application/json', 'text/json']);

/** A zip begins with a local file header, or is an empty archive, or a spanned one's marker. */
const ZIP_SIGNATURES: readonly Buffer[] = [
  Buffer.from('PK\x03\x04', 'latin1'),
  Buffer.from('PK\x05\x06', 'latin1'),
  Buffer.from('PK\x07\x08', 'latin1'),
];

/** Why the first bytes of a file said to be a zip are not one, or `undefined` when they are. */
export function notAZip(head: Buffer): string | undefined {
  if (ZIP_SIGNATURES.some((signature) => head.subarray(0, 4).equals(signature))) return undefined;
  if (head.length === 0) return 'an empty file';
  const text = head.toString('latin1').trimStart();
  if (text.startsWith('<')) return 'an HTML or XML document';
  if (text.startsWith('{') || text.startsWith('[')) return 'JSON';
  return 'a file that is not a zip';
}

/** Moodle's download errors are a few hundred bytes of JSON. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface DownloadOptions {
  /** Deadline for connecting and receiving the headers (and an error body, when it is one). */
  readonly headersTimeoutMs: number;
  /** Once streaming, the body errors when no byte arrives for this long. There is no total deadline. */
  readonly idleTimeoutMs: number;
  /** Cancels the upstream request, before the headers (rejecting) or while streaming (the body errors). */
  readonly signal?: AbortSignal;
}

export interface Downloader {
  /**
   * Opens a draft file of the site as a stream, never buffered. Throws a TypeError for a
   * `relativepath` that is not a plain absolute path (see `isDraftFilePath`).
   */
  open(relativepath: string, options: DownloadOptions): Promise<Result<RemoteDownload>>;
}

export interface DownloaderOptions {
  readonly dispatcher: Dispatcher;
  readonly site: SiteCredentials;
  readonly logger?: Logger;
}

/** A path that can only name a file below the download script: no query, fragment, dot segments or backslashes. */
export function isDraftFilePath(relativepath: string): boolean {
  if (!relativepath.startsWith('/') || /[?#\\]/.test(relativepath) || hasControlCharacter(relativepath)) {
    return false;
  }
  return relativepath
    .slice(1)
    .split('/')
    .every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

function hasControlCharacter(text: string): boolean {
  return [...text].some((character) => {
    const code = character.charCodeAt(0);
    return code < 0x20 || code === 0x7f;
  });
}

export function createDownloader({ dispatcher, site, logger }: DownloaderOptions): Downloader {
  const endpoint = siteEndpoint(site.url, DOWNLOAD_SCRIPT);

  async function exchange(
    relativepath: string,
    { headersTimeoutMs, idleTimeoutMs, signal }: DownloadOptions,
  ): Promise<Result<RemoteDownload>> {
    const encodedPath = relativepath.split('/').map(encodeURIComponent).join('/');
    // The script reads only a query-string token; it never appears in a message or a log line of ours.
    const path = `${endpoint.path}${encodedPath}?token=${encodeURIComponent(site.token)}`;

    // One controller for the whole life of the download: the caller's signal keeps cancelling the
    // upstream while streaming, whereas the headers deadline must stop counting once the file flows.
    const upstream = new AbortController();
    const onCallerAbort = () => upstream.abort(signal?.reason);
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    const release = () => signal?.removeEventListener('abort', onCallerAbort);
    let handedOver = false;
    let headersLate = false;
    const headersTimer = setTimeout(() => {
      headersLate = true;
      upstream.abort(new DOMException('download headers deadline passed', 'TimeoutError'));
    }, headersTimeoutMs);

    try {
      const response = await dispatcher.request({
        origin: endpoint.origin,
        path,
        method: 'GET',
        headers: { accept: 'application/zip, application/json;q=0.1' },
        signal: upstream.signal,
        headersTimeout: headersTimeoutMs + UNDICI_TIMER_SLACK_MS,
        bodyTimeout: idleTimeoutMs,
      });
      const contentType = headerValue(response.headers, 'content-type') ?? '';
      const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
      if (response.statusCode === 200 && ZIP_TYPES.has(mediaType)) {
        // Checked before the gateway sends its own headers: afterwards, only cutting the connection
        // could tell a client that the file it got is not the zip it asked for.
        const why = notAZip(await peekBytes(response.body, 4));
        if (why !== undefined) {
          discardBody(response.body);
          return fail(
            siteFailure('BAD_RESPONSE', `Unexpected answer from the site: ${why} sent as a zip file`),
          );
        }
        clearTimeout(headersTimer);
        handedOver = true;
        response.body.once('close', release);
        const length = Number(headerValue(response.headers, 'content-length'));
        return ok({
          body: response.body,
          contentType,
          contentLength: Number.isSafeInteger(length) && length >= 0 ? length : null,
        });
      }
      if (response.statusCode === 200 && !JSON_TYPES.has(mediaType)) {
        discardBody(response.body);
        const shown = mediaType === '' ? 'no content type' : `content type ${mediaType}`;
        return fail(
          siteFailure('BAD_RESPONSE', `Unexpected answer from the site: ${shown} instead of a zip file`),
        );
      }
      const body = await readCappedBody(response.body, MAX_ERROR_BODY_BYTES);
      if (body === undefined) {
        return fail(tooLargeFailure(MAX_ERROR_BODY_BYTES));
      }
      return fail(
        failureOfAnswer(
          { status: response.statusCode, headers: response.headers, body },
          { expected: 'a zip file' },
        ),
      );
    } catch (error) {
      if (signal?.aborted) {
        throw signal.reason;
      }
      return fail(headersLate ? timeoutFailure(headersTimeoutMs, 'answer', error) : mapTransportError(error));
    } finally {
      clearTimeout(headersTimer);
      if (!handedOver) {
        release();
      }
    }
  }

  return {
    async open(relativepath, options) {
      if (!isDraftFilePath(relativepath)) {
        throw new TypeError('Not a draft file path');
      }
      options.signal?.throwIfAborted();
      const started = performance.now();
      const result = await exchange(relativepath, withNativeSignal(options));
      const ms = Math.round(performance.now() - started);
      if (result.ok) {
        logger?.debug(
          { site: site.id, ms, contentLength: result.value.contentLength },
          'moodle download opened',
        );
        return result;
      }
      const failure = redactSecret(result.failure, site.token);
      logger?.info(
        { site: site.id, ms, code: failure.code, remoteErrorCode: failure.remoteErrorCode },
        `moodle download failed: ${failure.message}`,
      );
      return fail(failure);
    },
  };
}
