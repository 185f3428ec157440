/**
 * The coded taxonomy of everything that can go wrong when the gateway talks to one site.
 * A site's trouble is data for that site (a `SiteFailure` in GraphQL), never a thrown error.
 */
export const SITE_FAILURE_CODES = [
  'TIMEOUT',
  'UNREACHABLE',
  'INVALID_TOKEN',
  'ACCESS_DENIED',
  'USER_NOT_FOUND',
  'NO_FILES',
  'FUNCTION_UNAVAILABLE',
  'MAINTENANCE',
  'BAD_RESPONSE',
  'REMOTE_ERROR',
  'CIRCUIT_OPEN',
] as const;

export type SiteFailureCode = (typeof SITE_FAILURE_CODES)[number];

export interface SiteFailure {
  readonly code: SiteFailureCode;
  /** Safe to show to a caller: never holds a token or a secret. */
  readonly message: string;
  /** Whether asking again later may succeed. */
  readonly retryable: boolean;
  /** Seconds the site asked us to wait (HTTP `Retry-After`), when it said so. */
  readonly retryAfterSeconds?: number;
  /** Moodle's own `errorcode`, when the site sent one. */
  readonly remoteErrorCode?: string;
  /** For logs only; never sent to a caller. */
  readonly cause?: unknown;
}

const RETRYABLE: Record<SiteFailureCode, boolean> = {
  TIMEOUT: true,
  UNREACHABLE: true,
  INVALID_TOKEN: false,
  ACCESS_DENIED: false,
  USER_NOT_FOUND: false,
  NO_FILES: false,
  FUNCTION_UNAVAILABLE: false,
  MAINTENANCE: true,
  BAD_RESPONSE: true,
  REMOTE_ERROR: false,
  CIRCUIT_OPEN: true,
};

export function siteFailure(
  code: SiteFailureCode,
  message: string,
  extra: Omit<SiteFailure, 'code' | 'message' | 'retryable'> = {},
): SiteFailure {
  return { code, message, retryable: RETRYABLE[code], ...extra };
}

export type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly failure: SiteFailure };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(failure: SiteFailure): Result<T> => ({ ok: false, failure });
