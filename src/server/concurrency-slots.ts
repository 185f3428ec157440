/**
 * How many of something run at once per key: downloads per user (single-site zips and all-sites
 * bundles share one count), uploads being read. A slot is taken before the work starts and given back
 * when it ends, however it ends.
 */
export interface ConcurrencySlots {
  readonly max: number;
  /** A slot for `key`, with the function that gives it back; null when all of the key's are taken. */
  take(key: string): (() => void) | null;
}

export function createConcurrencySlots(max: number): ConcurrencySlots {
  const active = new Map<string, number>();
  return {
    max,
    take(key) {
      const running = active.get(key) ?? 0;
      if (running >= max) return null;
      active.set(key, running + 1);
      let given = false;
      return () => {
        if (given) return;
        given = true;
        const left = (active.get(key) ?? 1) - 1;
        if (left > 0) active.set(key, left);
        else active.delete(key);
      };
    },
  };
}

/** The key downloads are counted under: one user of one tenant. */
export const downloadKey = (tenant: string, username: string) => `${tenant}\u0000${username}`;
