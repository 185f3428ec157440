import type { FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { Caller } from '../auth/caller.js';
import type { AnswerFreshness } from '../gateway/answer-freshness.js';
import type { SitesVersion } from '../gateway/sites-version.js';

export interface ResponseCacheOptions {
  /** Moves whenever anything a kept answer was computed from changes: such answers are dropped. */
  readonly version: SitesVersion;
  /** Answers kept, least recently used dropped first. */
  readonly maxEntries: number;
  /** Their total size (bodies, keys), in bytes. */
  readonly maxBytes: number;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface CachedResponse {
  readonly body: string;
  readonly contentType: string;
  readonly operationName: string | null;
}

interface Entry extends CachedResponse {
  readonly version: number;
  readonly validUntil: number;
}

/** What a request's answer may be kept under, and the version it is computed at. */
export interface ResponseSlot {
  readonly key: string;
  readonly version: number;
}

/**
 * Whole GraphQL answers, kept for asking again exactly the same (caller, `Accept`, query, variables),
 * and given back only while exact: nothing they were computed from has changed (`version`) and no
 * cached entry they read has expired. Which answers may be kept is the resolvers' to say (`freshness`).
 */
export interface ResponseCache {
  /** Where a request's answer would be kept; null for anything but one plain GraphQL request. */
  slotOf(request: FastifyRequest): ResponseSlot | null;
  /** The answer kept in `slot`, while still exact. */
  get(slot: ResponseSlot): CachedResponse | undefined;
  /** Keeps an answer when its request said it may be (and nothing it read has changed since). */
  keep(slot: ResponseSlot, answer: CachedResponse, freshness: AnswerFreshness): void;
}

const PARAMS: ReadonlySet<string> = new Set(['query', 'variables', 'operationName', 'extensions']);

export function createResponseCache({
  version,
  maxEntries,
  maxBytes,
  now = Date.now,
}: ResponseCacheOptions): ResponseCache {
  const entries = new LRUCache<string, Entry>({
    max: maxEntries,
    maxSize: maxBytes,
    sizeCalculation: (entry, key) => Math.max(1, 2 * (entry.body.length + key.length)),
  });
  return {
    slotOf(request) {
      const params = request.method === 'GET' ? request.query : request.body;
      if (typeof params !== 'object' || params === null || Array.isArray(params)) return null;
      const { query, variables, operationName, extensions } = params as Record<string, unknown>;
      if (typeof query !== 'string' || !Object.keys(params).every((name) => PARAMS.has(name))) return null;
      const key = JSON.stringify([
        request.method,
        identityOf(request.caller),
        request.headers.accept ?? '',
        query,
        operationName ?? null,
        variables ?? null,
        extensions ?? null,
      ]);
      return { key, version: version.current };
    },
    get({ key }) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.version === version.current && now() < entry.validUntil) return entry;
      entries.delete(key);
      return undefined;
    },
    keep(slot, answer, freshness) {
      if (!freshness.reusable || slot.version !== version.current || now() >= freshness.validUntil) return;
      entries.set(slot.key, { ...answer, version: slot.version, validUntil: freshness.validUntil });
    },
  };
}

/** Everything of the caller an authorization rule may look at; the address only limits the rate. */
function identityOf(caller: Caller): string {
  switch (caller.role) {
    case 'anonymous':
      return `anonymous\u0000${caller.tenant}`;
    case 'user':
      return `user\u0000${caller.tenant}\u0000${caller.username}`;
    default:
      return `${caller.role}\u0000${caller.tenant}\u0000${caller.keyId}`;
  }
}
