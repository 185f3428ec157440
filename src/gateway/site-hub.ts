import type { Logger } from 'pino';
import { type SiteConfig, siteConfigSchema } from '../config/config-schema.js';
import { siteIdFromUrl } from '../config/legacy-sites.js';
import { fail, ok, type Result } from '../moodle/failures.js';
import {
  type RecordedSiteInfo,
  RegistryConflictError,
  type RegistryStore,
  type StoredSite,
} from './registry-store.js';
import type { SiteInfo } from './site.js';
import type { RegisteredSite, SiteRegistry } from './site-registry.js';

export type SiteSource = 'config' | 'registry';

/** How a site came to be, for the admins who manage it. The token only ever appears masked. */
export interface SiteRegistration {
  readonly tenant: string;
  readonly id: string;
  readonly source: SiteSource;
  /** Configuration sites are changed in the configuration, not through the registry. */
  readonly readOnly: boolean;
  /** e.g. `••••…a1b2`; null when the gateway made the token itself (the embedded provider). */
  readonly maskedToken: string | null;
  readonly timeoutMs: number | null;
  readonly recorded: RecordedSiteInfo | null;
  readonly registeredAt: Date | null;
  readonly updatedAt: Date | null;
}

export interface TenantView {
  readonly id: string;
  readonly name: string | null;
  /** `config` tenants are named by the configuration (its sites, its API keys) and cannot be removed. */
  readonly source: SiteSource;
  readonly createdAt: Date | null;
}

export type SiteHubErrorCode = 'NOT_FOUND' | 'READ_ONLY' | 'CONFLICT' | 'BAD_USER_INPUT';

/** A refusal of the caller's request, with a stable code and the input field at fault. */
export class SiteHubError extends Error {
  override readonly name = 'SiteHubError';
  constructor(
    readonly code: SiteHubErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface RegisterSiteInput {
  readonly tenant: string;
  readonly url: string;
  readonly token: string;
  /** @default derived from the URL, as for `MOODLE_SITES` */
  readonly id?: string;
  /** @default the name the site gives itself */
  readonly name?: string;
  /** @default true */
  readonly enabled?: boolean;
  /** @default true */
  readonly visible?: boolean;
  /** @default false */
  readonly trusted?: boolean;
  /** @default 0 */
  readonly priority?: number;
  /** Site-info deadline. @default the gateway's */
  readonly timeoutMs?: number;
}

/** Absent fields stay as they are; a `null` name or timeout goes back to the default. */
export interface UpdateSiteInput {
  readonly tenant: string;
  readonly id: string;
  readonly name?: string | null;
  readonly enabled?: boolean;
  readonly visible?: boolean;
  readonly trusted?: boolean;
  readonly priority?: number;
  readonly timeoutMs?: number | null;
  /** A new token: checked against the site before it replaces the old one. */
  readonly token?: string;
}

export interface SiteHubDependencies {
  readonly store: RegistryStore;
  /** The in-memory registry every query reads; the hub keeps it in step with the store. */
  readonly registry: SiteRegistry;
  readonly configSites: readonly SiteConfig[];
  /** Tenants the configuration names (its sites', its API keys'); `default` always exists. */
  readonly configTenants: readonly string[];
  /** Ids the gateway gives sites of its own later (the embedded provider's): never registered. */
  readonly reservedSites?: readonly { readonly tenant: string; readonly id: string }[];
  /** Builds the registry entry of a site (adapter, observers, breaker). */
  readonly connect: (
    site: SiteConfig,
    flags: { readonly visible: boolean; readonly trusted: boolean },
  ) => RegisteredSite;
  /** Asks a site for its info, within its deadline, before it is saved. */
  readonly probe: (site: SiteConfig) => Promise<Result<SiteInfo>>;
  /** A site was connected or reconnected (a new token or deadline). */
  readonly onConnected?: (site: SiteConfig) => void;
  /** A site was removed, or reconnected: what was cached of it is stale. */
  readonly onDisconnected?: (tenant: string, id: string) => void;
  readonly logger: Logger;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface SiteHub {
  /** Puts the stored sites into the registry; a stored id that the configuration now uses is skipped. */
  load(): Promise<void>;
  /**
   * Brings the registry in step with the store after another process changed it (the command line,
   * another gateway on the same file): stored sites added, changed or removed there are here too.
   */
  refresh(): Promise<{ readonly added: number; readonly changed: number; readonly removed: number }>;
  /** Every tenant: `default`, the configuration's, the created ones; sorted by id. */
  tenants(): TenantView[];
  hasTenant(id: string): boolean;
  createTenant(input: { readonly id: string; readonly name?: string | null }): Promise<TenantView>;
  /** Refuses a tenant that still has sites unless `removeSites`; answers how many sites went with it. */
  removeTenant(id: string, options?: { readonly removeSites?: boolean }): Promise<number>;
  /** The registration of a site of the registry, whatever its source; undefined when unknown. */
  describe(tenant: string, id: string): SiteRegistration | undefined;
  /** Calls the site first: a site that does not answer, or refuses the token, is not saved. */
  register(input: RegisterSiteInput): Promise<Result<RegisteredSite>>;
  update(input: UpdateSiteInput): Promise<Result<RegisteredSite>>;
  remove(tenant: string, id: string): Promise<void>;
}

const DEFAULT_TENANT = 'default';
const key = (tenant: string, id: string) => `${tenant}\u0000${id}`;

/** Shows only the last characters of a long token, nothing of a short one. */
export function maskSecret(token: string): string {
  return token.length >= 16 ? `••••…${token.slice(-4)}` : '••••';
}

/** A stored site as the configuration would describe it. */
export function siteConfigOf(site: StoredSite): SiteConfig {
  return {
    id: site.id,
    url: site.url,
    token: site.token,
    name: site.name ?? site.recorded.sitename,
    ...(site.timeoutMs !== null && { timeoutMs: site.timeoutMs }),
    priority: site.priority,
    enabled: site.enabled,
    tenant: site.tenant,
    kind: 'moodle',
  };
}

/**
 * The site registry run like a Moodle hub: admins register, update and remove sites at run time;
 * each change is written to the store first, then takes effect in the in-memory registry at once.
 */
export function createSiteHub(deps: SiteHubDependencies): SiteHub {
  const { store, registry, logger, now = Date.now } = deps;
  const stored = new Map<string, StoredSite>();
  const configMasks = new Map(
    deps.configSites.map((site) => [key(site.tenant, site.id), maskSecret(site.token)]),
  );
  const configTenants = new Set([DEFAULT_TENANT, ...deps.configTenants]);
  const createdTenants = new Map<string, TenantView>();
  const reserved = new Set((deps.reservedSites ?? []).map((site) => key(site.tenant, site.id)));
  const taken = (tenant: string, id: string) =>
    reserved.has(key(tenant, id)) || registry.get(tenant, id) !== undefined;
  /** Stored sites left out because the configuration uses their id: said once each. */
  const shadowed = new Set<string>();

  // Writes (and reading the store back) one at a time, so that a refresh never sees a registration
  // half done; asking a site happens before, outside.
  let queue: Promise<unknown> = Promise.resolve();
  function serially<T>(work: () => Promise<T>): Promise<T> {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  }

  const tenantOf = (id: string): TenantView | undefined =>
    configTenants.has(id) ? { id, name: null, source: 'config', createdAt: null } : createdTenants.get(id);

  function requireTenant(tenant: string): void {
    if (!tenantOf(tenant)) throw new SiteHubError('NOT_FOUND', `no tenant "${tenant}"`, 'tenant');
  }

  /** The stored site, or the refusal a caller of its tenant gets: read-only, or not found. */
  function storedSite(tenant: string, id: string): StoredSite {
    const site = stored.get(key(tenant, id));
    if (site) return site;
    if (registry.get(tenant, id)) {
      throw new SiteHubError(
        'READ_ONLY',
        `the site "${id}" comes from the configuration: change it there`,
        'id',
      );
    }
    throw new SiteHubError('NOT_FOUND', `no site "${id}"`, 'id');
  }

  function connectStored(site: StoredSite): RegisteredSite {
    const config = siteConfigOf(site);
    const entry = deps.connect(config, { visible: site.visible, trusted: site.trusted });
    deps.onConnected?.(config);
    return entry;
  }

  /**
   * Puts a stored site into the registry, replacing `current`: a new token, URL or deadline makes a
   * new adapter (breaker, pool); otherwise the same one, listed anew.
   */
  function place(next: StoredSite, current: StoredSite | undefined): RegisteredSite {
    const previous = registry.get(next.tenant, next.id);
    let entry: RegisteredSite;
    if (
      !previous ||
      !current ||
      next.token !== current.token ||
      next.url !== current.url ||
      next.timeoutMs !== current.timeoutMs
    ) {
      if (previous) deps.onDisconnected?.(next.tenant, next.id);
      entry = connectStored(next);
    } else {
      entry = {
        ...previous,
        name: next.name ?? next.recorded.sitename,
        enabled: next.enabled,
        visible: next.visible,
        trusted: next.trusted,
        priority: next.priority,
      };
    }
    registry.remove(next.tenant, next.id);
    registry.add(entry);
    stored.set(key(next.tenant, next.id), next);
    return entry;
  }

  function forget(site: StoredSite): void {
    stored.delete(key(site.tenant, site.id));
    registry.remove(site.tenant, site.id);
    deps.onDisconnected?.(site.tenant, site.id);
  }

  /** Makes the tenants and stored sites here what the store holds. Run serially. */
  async function sync() {
    const tenants = await store.listTenants();
    const sites = await store.listSites();
    const tenantIds = new Set(tenants.map((tenant) => tenant.id));
    for (const tenant of tenants) {
      if (createdTenants.has(tenant.id)) continue;
      createdTenants.set(tenant.id, {
        id: tenant.id,
        name: tenant.name,
        source: 'registry',
        createdAt: new Date(tenant.createdAt),
      });
    }
    for (const id of createdTenants.keys()) if (!tenantIds.has(id)) createdTenants.delete(id);

    let added = 0;
    let changed = 0;
    let removed = 0;
    const kept = new Set<string>();
    for (const site of sites) {
      const at = key(site.tenant, site.id);
      const current = stored.get(at);
      if (current === undefined && taken(site.tenant, site.id)) {
        if (!shadowed.has(at)) {
          shadowed.add(at);
          logger.warn(
            { tenant: site.tenant, site: site.id },
            'a registered site has the id of a configuration site: the configuration wins, the registered one is left out',
          );
        }
        continue;
      }
      kept.add(at);
      if (current === undefined) added++;
      else if (current.updatedAt !== site.updatedAt || current.createdAt !== site.createdAt) changed++;
      else continue;
      place(site, current);
    }
    for (const [at, site] of stored) {
      if (kept.has(at)) continue;
      forget(site);
      removed++;
    }
    return { added, changed, removed };
  }

  function recordedFrom(info: SiteInfo): RecordedSiteInfo {
    return {
      sitename: info.sitename,
      release: info.release,
      version: info.version,
      functions: info.functions.map(({ name, version }) => ({ name, version })),
      checkedAt: now(),
    };
  }

  /** Caller mistakes found by the configuration's own rules, so a registered site is as valid as a configured one. */
  function validated(
    candidate: Record<string, unknown>,
    fieldNames: Record<string, string> = {},
  ): SiteConfig {
    const parsed = siteConfigSchema.safeParse(candidate);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const path = String(issue?.path[0] ?? 'input');
    throw new SiteHubError(
      'BAD_USER_INPUT',
      `${fieldNames[path] ?? path}: ${issue?.message ?? 'is not valid'}`,
      path,
    );
  }

  const hub: SiteHub = {
    async load() {
      await serially(sync);
      logger.info({ tenants: createdTenants.size, sites: stored.size }, 'site registry loaded');
    },

    async refresh() {
      const counts = await serially(sync);
      if (counts.added + counts.changed + counts.removed > 0) {
        logger.info(counts, 'site registry changed by another process: taken into account');
      }
      return counts;
    },

    tenants() {
      return [...configTenants]
        .map((id) => tenantOf(id) as TenantView)
        .concat([...createdTenants.values()].filter((tenant) => !configTenants.has(tenant.id)))
        .sort((a, b) => a.id.localeCompare(b.id));
    },

    hasTenant: (id) => tenantOf(id) !== undefined,

    async createTenant({ id, name = null }) {
      const slug = siteConfigSchema.shape.tenant.safeParse(id);
      if (!slug.success) {
        throw new SiteHubError(
          'BAD_USER_INPUT',
          `id: ${slug.error.issues[0]?.message ?? 'is not valid'}`,
          'id',
        );
      }
      if (name !== null && (name.trim() === '' || name.length > 200)) {
        throw new SiteHubError('BAD_USER_INPUT', 'name: must be 1 to 200 characters', 'name');
      }
      return serially(async () => {
        if (tenantOf(id)) throw new SiteHubError('CONFLICT', `the tenant "${id}" already exists`, 'id');
        const createdAt = now();
        try {
          await store.createTenant({ id, name, createdAt });
        } catch (error) {
          if (error instanceof RegistryConflictError) throw new SiteHubError('CONFLICT', error.message, 'id');
          throw error;
        }
        const view: TenantView = { id, name, source: 'registry', createdAt: new Date(createdAt) };
        createdTenants.set(id, view);
        logger.info({ tenant: id }, 'tenant created');
        return view;
      });
    },

    removeTenant(id, { removeSites = false } = {}) {
      return serially(async () => {
        if (configTenants.has(id)) {
          throw new SiteHubError(
            'READ_ONLY',
            `the tenant "${id}" comes from the configuration: change it there`,
            'id',
          );
        }
        if (!createdTenants.has(id)) throw new SiteHubError('NOT_FOUND', `no tenant "${id}"`, 'id');
        const sites = [...stored.values()].filter((site) => site.tenant === id);
        if (sites.length > 0 && !removeSites) {
          throw new SiteHubError(
            'CONFLICT',
            `the tenant "${id}" still has ${sites.length} site(s): remove them first, or pass removeSites: true`,
            'id',
          );
        }
        await store.removeTenant(id);
        createdTenants.delete(id);
        for (const site of sites) forget(site);
        logger.info({ tenant: id, removedSites: sites.length }, 'tenant removed');
        return sites.length;
      });
    },

    describe(tenant, id) {
      const site = stored.get(key(tenant, id));
      if (site) {
        return {
          tenant,
          id,
          source: 'registry',
          readOnly: false,
          maskedToken: maskSecret(site.token),
          timeoutMs: site.timeoutMs,
          recorded: site.recorded,
          registeredAt: new Date(site.createdAt),
          updatedAt: new Date(site.updatedAt),
        };
      }
      const entry = registry.get(tenant, id);
      if (!entry) return undefined;
      const configured = deps.configSites.find(
        (candidate) => candidate.tenant === tenant && candidate.id === id,
      );
      return {
        tenant,
        id,
        source: 'config',
        readOnly: true,
        maskedToken: configMasks.get(key(tenant, id)) ?? null,
        timeoutMs: configured?.timeouts?.siteInfoMs ?? configured?.timeoutMs ?? null,
        recorded: null,
        registeredAt: null,
        updatedAt: null,
      };
    },

    async register(input) {
      requireTenant(input.tenant);
      if (!URL.canParse(input.url))
        throw new SiteHubError('BAD_USER_INPUT', 'url: must be an http(s) URL', 'url');
      const config = validated({
        id: input.id ?? siteIdFromUrl(input.url),
        url: input.url,
        token: input.token,
        ...(input.name !== undefined && { name: input.name }),
        ...(input.timeoutMs !== undefined && { timeoutMs: input.timeoutMs }),
        priority: input.priority ?? 0,
        enabled: input.enabled ?? true,
        tenant: input.tenant,
      });
      if (taken(config.tenant, config.id)) {
        throw new SiteHubError(
          'CONFLICT',
          `the tenant "${config.tenant}" already has a site "${config.id}": choose another id`,
          'id',
        );
      }
      const info = await deps.probe(config);
      if (!info.ok) {
        logger.info(
          { tenant: config.tenant, site: config.id, url: config.url, code: info.failure.code },
          'site registration refused: the site did not accept the call',
        );
        return info;
      }
      return serially(async () => {
        const at = now();
        const site: StoredSite = {
          tenant: config.tenant,
          id: config.id,
          url: config.url,
          token: config.token,
          name: config.name ?? null,
          enabled: config.enabled,
          visible: input.visible ?? true,
          trusted: input.trusted ?? false,
          priority: config.priority,
          timeoutMs: config.timeoutMs ?? null,
          recorded: recordedFrom(info.value),
          createdAt: at,
          updatedAt: at,
        };
        if (taken(site.tenant, site.id)) {
          throw new SiteHubError(
            'CONFLICT',
            `the tenant "${site.tenant}" already has a site "${site.id}": choose another id`,
            'id',
          );
        }
        try {
          await store.insertSite(site);
        } catch (error) {
          if (error instanceof RegistryConflictError) throw new SiteHubError('CONFLICT', error.message, 'id');
          throw error;
        }
        const entry = place(site, undefined);
        logger.info(
          { tenant: site.tenant, site: site.id, url: site.url, release: site.recorded.release },
          'site registered',
        );
        return ok(entry);
      });
    },

    async update(input) {
      const current = storedSite(input.tenant, input.id);
      const config = validated(
        {
          ...siteConfigOf(current),
          name: input.name === undefined ? (current.name ?? undefined) : (input.name ?? undefined),
          ...(input.token !== undefined && { token: input.token }),
          ...(input.priority !== undefined && { priority: input.priority }),
          ...(input.enabled !== undefined && { enabled: input.enabled }),
          timeoutMs:
            input.timeoutMs === undefined ? (current.timeoutMs ?? undefined) : (input.timeoutMs ?? undefined),
        },
        {},
      );
      const rotating = input.token !== undefined && input.token !== current.token;
      let recorded = current.recorded;
      if (rotating) {
        const info = await deps.probe(config);
        if (!info.ok) {
          logger.info(
            { tenant: current.tenant, site: current.id, code: info.failure.code },
            'token rotation refused: the site did not accept the new token',
          );
          return fail(info.failure);
        }
        recorded = recordedFrom(info.value);
      }
      return serially(async () => {
        const next: StoredSite = {
          ...current,
          token: config.token,
          name: config.name ?? null,
          enabled: config.enabled,
          visible: input.visible ?? current.visible,
          trusted: input.trusted ?? current.trusted,
          priority: config.priority,
          timeoutMs: config.timeoutMs ?? null,
          recorded,
          updatedAt: now(),
        };
        if (!(await store.updateSite(next)))
          throw new SiteHubError('NOT_FOUND', `no site "${input.id}"`, 'id');
        // What is here now: a refresh may have replaced the site while it was being asked.
        const entry = place(next, stored.get(key(next.tenant, next.id)) ?? current);
        logger.info(
          {
            tenant: next.tenant,
            site: next.id,
            changed: Object.keys(input).filter((field) => field !== 'tenant' && field !== 'id'),
          },
          'site updated',
        );
        return ok(entry);
      });
    },

    remove(tenant, id) {
      return serially(async () => {
        const site = storedSite(tenant, id);
        await store.removeSite(tenant, id);
        forget(site);
        logger.info({ tenant, site: id }, 'site removed');
      });
    },
  };
  return hub;
}
