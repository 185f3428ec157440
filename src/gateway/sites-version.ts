/**
 * A number that grows whenever something an answer about the sites is computed from changes: the
 * registry (a site added, updated or removed), a cached site info (stored, dropped) or a circuit
 * breaker's view of a site. An answer kept with the number it was computed at is still exact while
 * the number has not moved (and no entry it read has expired: see `AnswerFreshness`).
 */
export interface SitesVersion {
  readonly current: number;
  bump(): void;
}

export function createSitesVersion(): SitesVersion {
  let current = 0;
  return {
    get current() {
      return current;
    },
    bump() {
      current += 1;
    },
  };
}
