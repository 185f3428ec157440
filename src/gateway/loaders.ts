import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import type { Result } from '../moodle/failures.js';
import type { AnswerFreshness } from './answer-freshness.js';
import { withinDeadline } from './fan-out.js';
import type { SiteInfo, ZipDescriptor } from './site.js';
import type { CachedSiteInfo, SiteInfoCache } from './site-info-cache.js';
import type { RegisteredSite } from './site-registry.js';

export interface ZipKey {
  readonly entry: RegisteredSite;
  readonly username: string;
}

/** Per GraphQL request: one request asks a site for a given thing at most once. Never shared across requests. */
export interface GatewayLoaders {
  readonly siteInfo: DataLoader<RegisteredSite, Result<SiteInfo>, string>;
  /**
   * The site's info when the cache holds a fresh answer, synchronously, else `undefined` (then ask
   * `siteInfo`). A warm cache is most requests: answering them without a promise, a batch and a
   * deadline timer per site is most of what listing sites costs. The same answer all request long.
   */
  siteInfoNow(entry: RegisteredSite): Result<SiteInfo> | undefined;
  readonly privateFilesZip: DataLoader<ZipKey, Result<ZipDescriptor>, string>;
}

export interface LoaderDependencies {
  readonly siteInfoCache: SiteInfoCache;
  /** The GraphQL request's signal: a caller that leaves cancels its zip calls. */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** Told what the request's answer was computed from: a cached entry (until when) or a call. */
  readonly freshness?: AnswerFreshness;
}

export function createLoaders({
  siteInfoCache,
  signal,
  logger,
  freshness,
}: LoaderDependencies): GatewayLoaders {
  const siteKey = (entry: RegisteredSite) => `${entry.tenant}\u0000${entry.id}`;
  const known = new Map<RegisteredSite, CachedSiteInfo>();
  let siteInfo: GatewayLoaders['siteInfo'] | undefined;
  let privateFilesZip: GatewayLoaders['privateFilesZip'] | undefined;
  return {
    siteInfoNow(entry) {
      let cached = known.get(entry);
      if (cached === undefined) {
        cached = siteInfoCache.peek(entry);
        if (cached === undefined) return undefined;
        known.set(entry, cached);
        freshness?.until(cached.expiresAt);
      }
      return cached.value;
    },
    // Made on first use: a request answered from the cache needs neither.
    get siteInfo() {
      siteInfo ??= new DataLoader(
        (entries) => {
          freshness?.live();
          return Promise.all(
            entries.map((entry) =>
              withinDeadline(entry, (e) => siteInfoCache.get(e), {
                deadlineMs: (e) => e.timeouts.siteInfoMs,
                ...(logger && { logger }),
              }),
            ),
          );
        },
        { cacheKeyFn: siteKey },
      );
      return siteInfo;
    },
    get privateFilesZip() {
      privateFilesZip ??= new DataLoader(
        (keys) => {
          freshness?.live();
          return Promise.all(
            keys.map(({ entry, username }) =>
              withinDeadline(entry, (e) => e.site.createPrivateFilesZip(username, signal ? { signal } : {}), {
                deadlineMs: (e) => e.timeouts.zipMs,
                ...(logger && { logger }),
              }),
            ),
          );
        },
        { cacheKeyFn: ({ entry, username }) => `${siteKey(entry)}\u0000${username}` },
      );
      return privateFilesZip;
    },
  };
}
