import type { Result } from '../moodle/failures.js';
import { circuitOf } from './circuit-breaker.js';
import type { SiteInfo } from './site.js';
import type { RegisteredSite } from './site-registry.js';

export interface SiteInfoCacheOptions {
  /** How long a successful answer is reused. @default 300000 (as the Moodle app does) */
  readonly ttlMs?: number;
  readonly now?: () => number;
  /** Told of every lookup (metrics); joining a call in flight counts as a hit. Must not throw. */
  readonly onLookup?: (entry: RegisteredSite, hit: boolean) => void;
  /** Told whenever what the cache holds changes (an answer stored, one dropped). Must not throw. */
  readonly onChange?: () => void;
}

/** A fresh cached answer and when it stops being fresh (ms since the epoch). */
export interface CachedSiteInfo {
  readonly value: Result<SiteInfo>;
  readonly expiresAt: number;
}

export interface SiteInfoCache {
  get(entry: RegisteredSite): Promise<Result<SiteInfo>>;
  /**
   * The answer `get` would give at once, without asking the site, when a fresh one is cached;
   * `undefined` otherwise. Counted as a lookup, a hit when it answers.
   */
  peek(entry: RegisteredSite): CachedSiteInfo | undefined;
  invalidate(siteId: string): void;
}

/**
 * Successes are kept for the TTL; failures are not, so a site that recovers is seen at once.
 * Concurrent askers share one in-flight call.
 */
export function createSiteInfoCache({
  ttlMs = 300_000,
  now = Date.now,
  onLookup,
  onChange,
}: SiteInfoCacheOptions = {}): SiteInfoCache {
  const fresh = new Map<string, CachedSiteInfo>();
  const inFlight = new Map<string, Promise<Result<SiteInfo>>>();
  const keyOf = (entry: RegisteredSite) => `${entry.tenant}\u0000${entry.id}`;

  return {
    get(entry) {
      const key = keyOf(entry);
      const cached = fresh.get(key);
      const pending = inFlight.get(key);
      const fromCache = cached !== undefined && cached.expiresAt > now();
      onLookup?.(entry, fromCache || pending !== undefined);
      if (fromCache) return Promise.resolve(cached.value);
      if (pending) {
        // The call in flight is the probe of a half-open circuit: the others are answered at once by
        // the breaker (CIRCUIT_OPEN) rather than made to wait for the probe, maybe to its deadline.
        const circuit = circuitOf(entry.site);
        return circuit === undefined || circuit.state === 'CLOSED' ? pending : entry.site.getSiteInfo();
      }
      // No caller's signal here: the call is shared, so one caller leaving must not cancel it for the others.
      const call = entry.site
        .getSiteInfo()
        .then((result) => {
          if (result.ok && ttlMs > 0) {
            fresh.set(key, { value: result, expiresAt: now() + ttlMs });
            onChange?.();
          } else if (fresh.delete(key)) {
            onChange?.();
          }
          return result;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, call);
      return call;
    },
    peek(entry) {
      const cached = fresh.get(keyOf(entry));
      if (cached === undefined || cached.expiresAt <= now()) return undefined;
      onLookup?.(entry, true);
      return cached;
    },
    invalidate(siteId) {
      let dropped = false;
      for (const key of [...fresh.keys()]) {
        if (key.endsWith(`\u0000${siteId}`)) dropped = fresh.delete(key) || dropped;
      }
      if (dropped) onChange?.();
    },
  };
}
