import { fail, ok, type Result, type SiteFailure, type SiteFailureCode, siteFailure } from './failures.js';

/**
 * Every outcome of talking to a Moodle, mapped to the failure taxonomy in this one file: Moodle's
 * error bodies (which arrive with HTTP 200), HTTP statuses, unreadable bodies and transport errors.
 */

export type AnswerHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** A complete (or size-capped) HTTP answer from a site. */
export interface MoodleAnswer {
  readonly status: number;
  readonly headers: AnswerHeaders;
  readonly body: string;
}

export interface AnswerContext {
  /** The web-service function called, for messages. */
  readonly wsfunction?: string;
  /** What a successful answer is, for messages. @default 'JSON' */
  readonly expected?: string;
}

/** Moodle's error body: `{exception, errorcode, message}` from the REST server, `{error, errorcode, …}` from file scripts. */
export interface MoodleError {
  readonly exception?: string;
  readonly errorcode?: string;
  readonly message: string;
  /** Only sent with debugging on; may hold internals, so it goes to logs, never to a message. */
  readonly debuginfo?: string;
}

interface ErrorcodeRule {
  readonly code: SiteFailureCode;
  readonly explanation: string;
}

const ERRORCODE_RULES: ReadonlyMap<string, ErrorcodeRule> = new Map([
  [
    'invalidtoken',
    {
      code: 'INVALID_TOKEN',
      explanation: "the site does not know the gateway's token (wrong, deleted or expired)",
    },
  ],
  ['sitemaintenance', { code: 'MAINTENANCE', explanation: 'the site is in maintenance mode' }],
  [
    'accessexception',
    {
      code: 'ACCESS_DENIED',
      explanation:
        "the token's service does not include this function, or the token is IP-restricted or expired, or the site restricts web services",
    },
  ],
  [
    'nopermissions',
    { code: 'ACCESS_DENIED', explanation: 'the web-service account lacks a required capability' },
  ],
  [
    'requireloginerror',
    { code: 'ACCESS_DENIED', explanation: 'the web-service account is not allowed to log in' },
  ],
  ['wsaccessusersuspended', { code: 'ACCESS_DENIED', explanation: 'the web-service account is suspended' }],
  [
    'filenotfound',
    { code: 'REMOTE_ERROR', explanation: 'file not found / expired (the site deletes its zips later)' },
  ],
]);

const FUNCTION_TABLE = /\bexternal_functions\b/;

/** The plugin's language strings for an empty private area (it sends no errorcode). */
export const NO_FILES_MESSAGES: readonly string[] = [
  'No file found in your private file area',
  'Pas de fichiers dans votre zone privée',
];

export interface FailureMappingRow {
  readonly situation: string;
  readonly code: SiteFailureCode;
}

/** The mapping as a table, for the README (and a test that keeps both in step). */
export const MOODLE_FAILURE_MAPPING: readonly FailureMappingRow[] = [
  ...[...ERRORCODE_RULES].map(([errorcode, rule]) => ({
    situation: `errorcode \`${errorcode}\`: ${rule.explanation}`,
    code: rule.code,
  })),
  {
    situation: 'HTTP 503 (maintenance page; `Retry-After` kept as `retryAfterSeconds`)',
    code: 'MAINTENANCE',
  },
  {
    situation:
      'HTTP 429 (the site, or a proxy in front of it, asks us to slow down; `Retry-After` kept as `retryAfterSeconds`)',
    code: 'MAINTENANCE',
  },
  { situation: 'HTTP 403 with an empty body: web services are disabled on the site', code: 'ACCESS_DENIED' },
  { situation: 'HTTP 403 with any other body that is not a Moodle error', code: 'ACCESS_DENIED' },
  {
    situation: 'errorcode `invalidrecord` on the table `external_functions`: no such function',
    code: 'FUNCTION_UNAVAILABLE',
  },
  {
    situation:
      'exception `Exception` without errorcode, message "No file found in your private file area" or "Pas de fichiers dans votre zone privée"',
    code: 'NO_FILES',
  },
  {
    situation:
      'errorcode `invalidparameter` from `block_my_external_privatefiles_get_private_files_zip` (unknown username)',
    code: 'USER_NOT_FOUND',
  },
  {
    situation: "any other Moodle exception (Moodle's message kept, `remoteErrorCode` set)",
    code: 'REMOTE_ERROR',
  },
  {
    situation:
      'HTML, non-JSON, truncated JSON, an unexpected shape, any other HTTP status, a body over the size cap, a download that is not a zip',
    code: 'BAD_RESPONSE',
  },
  {
    situation: 'connection refused, reset or closed; DNS failure; TLS failure; connect timeout',
    code: 'UNREACHABLE',
  },
  { situation: "the call's deadline (or a headers/idle timeout) passed", code: 'TIMEOUT' },
];

const MAX_QUOTED = 300;

/** The value of a REST call, or its failure. */
export function parseRestAnswer(answer: MoodleAnswer, context: AnswerContext = {}): Result<unknown> {
  const json = parseJson(answer.body);
  if (answer.status === 200 && json.ok && readMoodleError(json.value) === undefined) {
    return ok(json.value);
  }
  return fail(failureOfAnswer(answer, context));
}

/** Why an answer is not the expected one (a Moodle error, a status, an unreadable body). */
export function failureOfAnswer(answer: MoodleAnswer, context: AnswerContext = {}): SiteFailure {
  const expected = context.expected ?? 'JSON';
  if (answer.status === 503) {
    const retryAfterSeconds = parseRetryAfter(answer.headers['retry-after']);
    const wait = retryAfterSeconds === undefined ? '' : `, retry after ${retryAfterSeconds} s`;
    return siteFailure('MAINTENANCE', `The site is in maintenance mode (HTTP 503${wait})`, {
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }
  if (answer.status === 429) {
    // Not maintenance as such, but the same promise: the site is up and will answer later.
    const retryAfterSeconds = parseRetryAfter(answer.headers['retry-after']);
    const wait = retryAfterSeconds === undefined ? '' : `, retry after ${retryAfterSeconds} s`;
    return siteFailure(
      'MAINTENANCE',
      `The site asks the gateway to slow down (HTTP 429 Too Many Requests${wait})`,
      { ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) },
    );
  }
  const json = parseJson(answer.body);
  const moodleError = json.ok ? readMoodleError(json.value) : undefined;
  if (moodleError !== undefined) {
    return mapMoodleError(moodleError, context);
  }
  if (answer.status === 403) {
    return answer.body.trim() === ''
      ? siteFailure(
          'ACCESS_DENIED',
          'Access denied (HTTP 403, empty body): web services are disabled on the site',
        )
      : siteFailure(
          'ACCESS_DENIED',
          `Access denied (HTTP 403 with ${describeBody(answer)}): forbidden by the site or a proxy in front of it`,
        );
  }
  if (answer.status !== 200) {
    const location = headerValue(answer.headers, 'location');
    const redirect =
      answer.status >= 300 && answer.status < 400 && location !== undefined
        ? ` redirecting to ${quote(location.split('?')[0] ?? '')}: check the site URL`
        : ` with ${describeBody(answer)}`;
    return siteFailure('BAD_RESPONSE', `Unexpected answer from the site: HTTP ${answer.status}${redirect}`);
  }
  if (json.ok) {
    return siteFailure(
      'BAD_RESPONSE',
      `Unexpected answer from the site: JSON of an unexpected shape, not ${expected}`,
    );
  }
  return siteFailure(
    'BAD_RESPONSE',
    `Unexpected answer from the site: ${describeBody(answer)} instead of ${expected}`,
  );
}

/** Recognises Moodle's error bodies; anything else is not an error (its shape is checked by the caller). */
export function readMoodleError(value: unknown): MoodleError | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return undefined;
  }
  const body = value as Record<string, unknown>;
  const errorcode = typeof body.errorcode === 'string' ? body.errorcode : undefined;
  const debuginfo = typeof body.debuginfo === 'string' ? body.debuginfo : undefined;
  const extra = {
    ...(errorcode === undefined ? {} : { errorcode }),
    ...(debuginfo === undefined ? {} : { debuginfo }),
  };
  if (typeof body.exception === 'string') {
    return {
      exception: body.exception,
      message: typeof body.message === 'string' ? body.message : '',
      ...extra,
    };
  }
  if (typeof body.error === 'string' && errorcode !== undefined) {
    return { message: body.error, ...extra };
  }
  return undefined;
}

export function mapMoodleError(error: MoodleError, context: AnswerContext = {}): SiteFailure {
  const { errorcode, exception, message } = error;
  const extra = { ...(errorcode === undefined ? {} : { remoteErrorCode: errorcode }), cause: error };
  const says = message.trim() === '' ? '' : `; the site says ${quote(message)}`;
  if (errorcode === undefined && exception === 'Exception' && isNoFilesMessage(message)) {
    return siteFailure('NO_FILES', `The user has no files in their private area${says}`, extra);
  }
  if (errorcode === 'invalidrecord' && FUNCTION_TABLE.test(message)) {
    const name = context.wsfunction === undefined ? 'The function' : `The function ${context.wsfunction}`;
    return siteFailure(
      'FUNCTION_UNAVAILABLE',
      `${name} does not exist on the site (invalidrecord)${says}`,
      extra,
    );
  }
  const rule = errorcode === undefined ? undefined : ERRORCODE_RULES.get(errorcode);
  if (rule !== undefined) {
    return siteFailure(rule.code, `${TITLES[rule.code]} (${errorcode}): ${rule.explanation}${says}`, extra);
  }
  const label = errorcode ?? exception ?? 'unknown';
  return siteFailure(
    'REMOTE_ERROR',
    `Moodle error (${clip(label, 80)}): ${clip(message, MAX_QUOTED)}`,
    extra,
  );
}

/** A failure to exchange bytes with the site (undici and socket errors). */
export function mapTransportError(error: unknown): SiteFailure {
  const code = errorCode(error);
  const detail = `${code ?? 'error'}: ${clip(errorMessage(error), 200)}`;
  const withCause = { cause: error };
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return siteFailure(
      'TIMEOUT',
      `The site did not send the headers of its answer in time (${detail})`,
      withCause,
    );
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return siteFailure('TIMEOUT', `The site stopped sending its answer (${detail})`, withCause);
  }
  if (code !== undefined && (MALFORMED_HTTP.has(code) || code.startsWith('HPE_'))) {
    return siteFailure(
      'BAD_RESPONSE',
      `Unexpected answer from the site: malformed HTTP (${detail})`,
      withCause,
    );
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return siteFailure('UNREACHABLE', `Could not connect to the site in time (${detail})`, withCause);
  }
  return siteFailure('UNREACHABLE', `Could not reach the site (${detail})`, withCause);
}

const MALFORMED_HTTP: ReadonlySet<string> = new Set([
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
  'UND_ERR_HEADERS_OVERFLOW',
]);

export function timeoutFailure(deadlineMs: number, what: string, cause?: unknown): SiteFailure {
  return siteFailure('TIMEOUT', `No ${what} from the site within ${deadlineMs} ms`, { cause });
}

export function tooLargeFailure(maxBytes: number): SiteFailure {
  return siteFailure('BAD_RESPONSE', `Unexpected answer from the site: larger than ${maxBytes} bytes`);
}

/** `Retry-After` as seconds (it may be a number of seconds or an HTTP date). */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (raw === undefined || raw === '') {
    return undefined;
  }
  if (/^\d+$/.test(raw)) {
    return Number(raw);
  }
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

export function headerValue(headers: AnswerHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const TITLES: Record<SiteFailureCode, string> = {
  TIMEOUT: 'Timeout',
  UNREACHABLE: 'Unreachable',
  INVALID_TOKEN: 'Invalid token',
  ACCESS_DENIED: 'Access denied',
  USER_NOT_FOUND: 'User not found',
  NO_FILES: 'No files',
  FUNCTION_UNAVAILABLE: 'Function unavailable',
  MAINTENANCE: 'Maintenance',
  BAD_RESPONSE: 'Unexpected answer',
  REMOTE_ERROR: 'Moodle error',
  CIRCUIT_OPEN: 'Circuit open',
};

function isNoFilesMessage(message: string): boolean {
  const normalized = message.normalize('NFC').trim();
  return NO_FILES_MESSAGES.some((known) => known.normalize('NFC') === normalized);
}

function parseJson(body: string): { ok: true; value: unknown } | { ok: false } {
  // A stray BOM before `<?php` in a site's config.php ends up in front of every answer.
  const text = body.startsWith('\uFEFF') ? body.slice(1) : body;
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function describeBody(answer: MoodleAnswer): string {
  const type = headerValue(answer.headers, 'content-type')?.split(';')[0]?.trim();
  const typed = type === undefined || type === '' ? '' : ` (${clip(type, 60)})`;
  const body = answer.body.trim();
  if (body === '') {
    return `an empty body${typed}`;
  }
  if (body.startsWith('<') || type === 'text/html') {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1]?.trim();
    return title ? `an HTML page titled ${quote(title)}` : 'an HTML page';
  }
  if (body.startsWith('{') || body.startsWith('[')) {
    return `invalid or truncated JSON${typed}`;
  }
  return `a body that is not JSON${typed}`;
}

function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const { code, cause, errors } = current as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string') {
      return code;
    }
    const first: unknown = Array.isArray(errors) ? errors[0] : undefined;
    current = cause ?? first;
  }
  return undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function quote(text: string): string {
  return `“${clip(text.replace(/\s+/g, ' ').trim(), MAX_QUOTED)}”`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
