/**
 * How many downloads (single-site zips and all-sites bundles alike) each user runs at once. A slot is
 * taken before the first remote call and given back when the download ends, however it ends.
 */
export interface DownloadSlots {
  readonly maxPerUser: number;
  /** A slot for this user, with the function that gives it back; null when all theirs are taken. */
  take(tenant: string, username: string): (() => void) | null;
}

export function createDownloadSlots(maxPerUser: number): DownloadSlots {
  const active = new Map<string, number>();
  return {
    maxPerUser,
    take(tenant, username) {
      const key = `${tenant}\u0000${username}`;
      const running = active.get(key) ?? 0;
      if (running >= maxPerUser) return null;
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
