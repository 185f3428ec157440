/**
 * What the site registry keeps: tenants and the sites registered at run time (configuration sites
 * are never stored). A small repository interface, so that a networked store can replace SQLite when
 * several gateways must share one registry.
 */

/** A tenant created through `createTenant`. */
export interface StoredTenant {
  readonly id: string;
  readonly name: string | null;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/** What the site said of itself when it was registered, or when its token last changed. */
export interface RecordedSiteInfo {
  readonly sitename: string;
  readonly release: string | null;
  readonly version: string | null;
  readonly functions: readonly { readonly name: string; readonly version: string }[];
  /** Milliseconds since the epoch. */
  readonly checkedAt: number;
}

export interface StoredSite {
  readonly tenant: string;
  readonly id: string;
  readonly url: string;
  /** The web-service token: a secret, never answered nor logged. */
  readonly token: string;
  /** The name given by an admin; the recorded `sitename` is shown when null. */
  readonly name: string | null;
  readonly enabled: boolean;
  readonly visible: boolean;
  readonly trusted: boolean;
  readonly priority: number;
  /** The site-info deadline; null: the gateway's default. */
  readonly timeoutMs: number | null;
  readonly recorded: RecordedSiteInfo;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A write that would break a uniqueness rule: the tenant or the site already exists. */
export class RegistryConflictError extends Error {
  override readonly name = 'RegistryConflictError';
}

export interface RegistryStore {
  listTenants(): Promise<StoredTenant[]>;
  /** Throws `RegistryConflictError` when the id is taken. */
  createTenant(tenant: StoredTenant): Promise<void>;
  /** Removes the tenant and every site registered in it, in one transaction; false when unknown. */
  removeTenant(id: string): Promise<boolean>;
  /** Every stored site, of every tenant. */
  listSites(): Promise<StoredSite[]>;
  /** Throws `RegistryConflictError` when the tenant already has a site of this id. */
  insertSite(site: StoredSite): Promise<void>;
  /** Replaces the stored site of the same tenant and id; false when there is none. */
  updateSite(site: StoredSite): Promise<boolean>;
  removeSite(tenant: string, id: string): Promise<boolean>;
  /**
   * Whether another process (or connection) wrote to the store since the previous call: a cheap
   * question, asked often, so that a gateway follows changes made beside it. Absent: never known.
   */
  changedElsewhere?(): Promise<boolean>;
  /** Rejects when the store cannot answer (closed, file gone): for readiness. */
  check(): Promise<void>;
  close(): Promise<void>;
}
