import type { MoodleSite } from './site.js';

export interface RegisteredSite {
  readonly id: string;
  readonly name: string | null;
  readonly url: string;
  readonly tenant: string;
  readonly priority: number;
  readonly enabled: boolean;
  /** A hidden site is left out of the lists of callers who do not manage sites. @default true */
  readonly visible?: boolean;
  /** Vouched for by the registry's admin (shown to callers; set for configuration sites). @default true */
  readonly trusted?: boolean;
  /** Per-site deadlines, already resolved against the global defaults. */
  readonly timeouts: { readonly siteInfoMs: number; readonly zipMs: number; readonly downloadIdleMs: number };
  readonly site: MoodleSite;
}

export interface SiteRegistry {
  /** A tenant's sites, highest priority first, then by id. */
  list(tenant: string, options?: { readonly includeDisabled?: boolean }): RegisteredSite[];
  get(tenant: string, id: string): RegisteredSite | undefined;
  add(entry: RegisteredSite): void;
  remove(tenant: string, id: string): boolean;
}

export interface SiteRegistryOptions {
  /** Told after every site added or removed (an update is both). Must not throw. */
  readonly onChange?: () => void;
}

export function createSiteRegistry(
  initial: readonly RegisteredSite[] = [],
  { onChange }: SiteRegistryOptions = {},
): SiteRegistry {
  const sites = new Map<string, RegisteredSite>();
  const key = (tenant: string, id: string) => `${tenant}\u0000${id}`;

  const registry: SiteRegistry = {
    list(tenant, { includeDisabled = false } = {}) {
      return [...sites.values()]
        .filter((entry) => entry.tenant === tenant && (includeDisabled || entry.enabled))
        .sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id));
    },
    get(tenant, id) {
      return sites.get(key(tenant, id));
    },
    add(entry) {
      if (sites.has(key(entry.tenant, entry.id))) {
        throw new Error(`site "${entry.id}" is already registered for tenant "${entry.tenant}"`);
      }
      sites.set(key(entry.tenant, entry.id), entry);
      onChange?.();
    },
    remove(tenant, id) {
      const removed = sites.delete(key(tenant, id));
      if (removed) onChange?.();
      return removed;
    },
  };
  for (const entry of initial) registry.add(entry);
  return registry;
}
