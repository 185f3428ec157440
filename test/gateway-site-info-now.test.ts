import { describe, expect, it } from 'vitest';
import { createLoaders } from '../src/gateway/loaders.js';
import type { MoodleSite, SiteInfo } from '../src/gateway/site.js';
import { createSiteInfoCache } from '../src/gateway/site-info-cache.js';
import type { RegisteredSite } from '../src/gateway/site-registry.js';
import { fail, ok, type Result, siteFailure } from '../src/moodle/failures.js';

const INFO: SiteInfo = {
  sitename: 'Peer',
  siteurl: 'https://peer.example',
  release: '4.5',
  version: '2024100700',
  lang: 'en',
  downloadfiles: true,
  uploadfiles: false,
  functions: [],
} as unknown as SiteInfo;

function siteAnswering(answers: Result<SiteInfo>[]): { entry: RegisteredSite; calls: () => number } {
  let calls = 0;
  const site = {
    id: 'peer',
    url: 'https://peer.example',
    getSiteInfo: async () => {
      calls += 1;
      return answers.shift() ?? ok(INFO);
    },
  } as unknown as MoodleSite;
  const entry: RegisteredSite = {
    id: 'peer',
    name: null,
    url: 'https://peer.example',
    tenant: 'default',
    priority: 0,
    enabled: true,
    timeouts: { siteInfoMs: 1000, zipMs: 1000, downloadIdleMs: 1000 },
    site,
  };
  return { entry, calls: () => calls };
}

describe('site info known at once', () => {
  it('is the fresh cached success, counted a hit; nothing before an answer, after the TTL, or for a failure', async () => {
    let now = 1_000;
    const lookups: boolean[] = [];
    const cache = createSiteInfoCache({
      ttlMs: 100,
      now: () => now,
      onLookup: (_entry, hit) => lookups.push(hit),
    });
    const failing = siteAnswering([fail(siteFailure('TIMEOUT', 'slow'))]);
    await cache.get(failing.entry);
    expect(cache.peek(failing.entry)).toBeUndefined();

    const { entry, calls } = siteAnswering([]);
    expect(cache.peek(entry)).toBeUndefined();
    await cache.get(entry);
    lookups.length = 0;
    expect(cache.peek(entry)).toEqual({ value: ok(INFO), expiresAt: 1_100 });
    expect(lookups).toEqual([true]);
    now += 100;
    expect(cache.peek(entry)).toBeUndefined();
    expect(calls()).toBe(1);
  });

  it('gives a request the same answer for every field, looking the cache up once per site and asking no site', async () => {
    const lookups: boolean[] = [];
    const cache = createSiteInfoCache({ onLookup: (_entry, hit) => lookups.push(hit) });
    const { entry, calls } = siteAnswering([]);
    await cache.get(entry);
    lookups.length = 0;
    const loaders = createLoaders({ siteInfoCache: cache });
    const first = loaders.siteInfoNow(entry);
    cache.invalidate('peer');
    expect(loaders.siteInfoNow(entry)).toBe(first);
    expect(first).toEqual(ok(INFO));
    expect(lookups).toEqual([true]);
    expect(calls()).toBe(1);
    expect(createLoaders({ siteInfoCache: cache }).siteInfoNow(entry)).toBeUndefined();
  });
});
