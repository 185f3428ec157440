/**
 * When an idempotent read may be asked again, and after how long. Only two outcomes qualify: the
 * request failed before any byte of an answer came back (connection refused or reset: the site may
 * never have seen it), or the site answered 429 (it asked us to come back, maybe saying when).
 * A timeout never does: its deadline is spent.
 */

export interface RetryPolicy {
  /**
   * Attempts after the first.
   * @default 2
   */
  readonly retries?: number;
  /**
   * Backoff base: retry n (from 0) waits a random time up to `baseDelayMs × 2^n` (full jitter, so
   * gateways that saw the same failure do not come back in step).
   * @default 100
   */
  readonly baseDelayMs?: number;
  /**
   * Cap of one backoff wait.
   * @default 1_000
   */
  readonly maxDelayMs?: number;
  /**
   * A 429 whose `Retry-After` is longer than this is answered as it is rather than waited for.
   * @default 5_000
   */
  readonly maxRetryAfterMs?: number;
  /** @default Math.random */
  readonly random?: () => number;
}

/** What one attempt tells the retry loop. */
export type RetryHint =
  | { readonly kind: 'final' }
  | { readonly kind: 'no-byte-received' }
  /** HTTP 429, with the wait it asked for, when it said. */
  | { readonly kind: 'asked-to-retry'; readonly afterMs?: number };

export const FINAL: RetryHint = { kind: 'final' };

/** An attempt with less time than this left before the call's deadline is not worth starting. */
export const MIN_ATTEMPT_MS = 50;

/**
 * How long to wait before retry number `retry` (0 for the first), or `undefined` when the call must
 * not be retried: a final outcome, no retries left, a wait the site asked for that is too long, or
 * not enough of the call's deadline left (`remainingMs`) for another attempt after the wait.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  retry: number,
  hint: RetryHint,
  remainingMs: number,
): number | undefined {
  const {
    retries = 2,
    baseDelayMs = 100,
    maxDelayMs = 1_000,
    maxRetryAfterMs = 5_000,
    random = Math.random,
  } = policy;
  if (hint.kind === 'final' || retry >= retries) return undefined;
  const backoff = Math.round(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** retry));
  let delay = backoff;
  if (hint.kind === 'asked-to-retry' && hint.afterMs !== undefined) {
    if (hint.afterMs > maxRetryAfterMs) return undefined;
    // Never sooner than asked; the jitter on top spreads the callers that were told the same.
    delay = hint.afterMs + Math.round(random() * baseDelayMs);
  }
  return delay + MIN_ATTEMPT_MS <= remainingMs ? delay : undefined;
}
