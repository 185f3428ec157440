import type { Logger } from 'pino';
import { fail, type Result, siteFailure } from '../moodle/failures.js';
import type { RegisteredSite } from './site-registry.js';

export interface SiteOutcome<T> {
  readonly entry: RegisteredSite;
  readonly result: Result<T>;
}

export interface FanOutOptions {
  /** The longest a site may take; past it the site is a `TIMEOUT`, whatever its client does. */
  readonly deadlineMs: (entry: RegisteredSite) => number;
  readonly logger?: Logger;
}

/**
 * Asks every site at once. Each site's answer, failure or slowness stays its own: the whole
 * takes as long as the slowest site within its deadline, never the sum.
 */
export function fanOut<T>(
  entries: readonly RegisteredSite[],
  call: (entry: RegisteredSite) => Promise<Result<T>>,
  options: FanOutOptions,
): Promise<SiteOutcome<T>[]> {
  return Promise.all(
    entries.map(async (entry) => ({ entry, result: await withinDeadline(entry, call, options) })),
  );
}

/** One site's call, guarded: a thrown error or a missed deadline becomes that site's failure. */
export async function withinDeadline<T>(
  entry: RegisteredSite,
  call: (entry: RegisteredSite) => Promise<Result<T>>,
  { deadlineMs, logger }: FanOutOptions,
): Promise<Result<T>> {
  const deadline = deadlineMs(entry);
  let timer: NodeJS.Timeout | undefined;
  // The client enforces its own deadline; this guard only catches a client that failed to.
  const guard = new Promise<Result<T>>((resolve) => {
    timer = setTimeout(
      () => resolve(fail(siteFailure('TIMEOUT', `${entry.id} did not answer within ${deadline} ms`))),
      deadline + 250,
    );
  });
  try {
    return await Promise.race([
      call(entry).catch((error: unknown) => {
        logger?.error({ err: error, site: entry.id }, 'unexpected error while asking a site');
        return fail<T>(siteFailure('REMOTE_ERROR', `unexpected error while asking ${entry.id}`));
      }),
      guard,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
