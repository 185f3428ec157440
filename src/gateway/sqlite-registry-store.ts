import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  type RecordedSiteInfo,
  RegistryConflictError,
  type RegistryStore,
  type StoredSite,
  type StoredTenant,
} from './registry-store.js';

export interface SqliteRegistryStoreOptions {
  /** Holds `registry.sqlite` (+ its WAL files), created when missing; null keeps the registry in memory. */
  readonly dataDir: string | null;
}

/** The registry's database file in its data directory. */
export function registryFile(dataDir: string): string {
  return join(dataDir, 'registry.sqlite');
}

/** Strictly increasing; never edit a released one, add the next. Applied in order, each in its transaction. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE sites (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    url TEXT NOT NULL,
    token TEXT NOT NULL,
    name TEXT,
    enabled INTEGER NOT NULL,
    visible INTEGER NOT NULL,
    trusted INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    timeout_ms INTEGER,
    recorded TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
  );
  `,
];

/** The registry's database was written by a newer version of the code; refusing beats corrupting it. */
export class RegistrySchemaTooNewError extends Error {
  override readonly name = 'RegistrySchemaTooNewError';
}

interface SiteRow {
  tenant: string;
  id: string;
  url: string;
  token: string;
  name: string | null;
  enabled: number;
  visible: number;
  trusted: number;
  priority: number;
  timeout_ms: number | null;
  recorded: string;
  created_at: number;
  updated_at: number;
}

interface TenantRow {
  id: string;
  name: string | null;
  created_at: number;
}

/** The registry in SQLite: one small file, WAL, every write one transaction synced to disk. */
export function createSqliteRegistryStore({ dataDir }: SqliteRegistryStoreOptions): RegistryStore {
  let file = ':memory:';
  if (dataDir !== null) {
    mkdirSync(dataDir, { recursive: true });
    file = registryFile(dataDir);
  }
  const db = new Database(file);
  try {
    if (dataDir !== null) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      // It holds the sites' tokens: readable by the gateway's user only.
      for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) chmodSync(path, 0o600);
    }
    db.pragma('busy_timeout = 5000');
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }

  const statements = {
    tenants: db.prepare<[], TenantRow>('SELECT id, name, created_at FROM tenants ORDER BY id'),
    insertTenant: db.prepare('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)'),
    deleteTenant: db.prepare('DELETE FROM tenants WHERE id = ?'),
    deleteTenantSites: db.prepare('DELETE FROM sites WHERE tenant = ?'),
    sites: db.prepare<[], SiteRow>('SELECT * FROM sites ORDER BY tenant, id'),
    insertSite: db.prepare(
      `INSERT INTO sites (tenant, id, url, token, name, enabled, visible, trusted, priority, timeout_ms,
        recorded, created_at, updated_at)
       VALUES (@tenant, @id, @url, @token, @name, @enabled, @visible, @trusted, @priority, @timeout_ms,
        @recorded, @created_at, @updated_at)`,
    ),
    updateSite: db.prepare(
      `UPDATE sites SET url = @url, token = @token, name = @name, enabled = @enabled, visible = @visible,
        trusted = @trusted, priority = @priority, timeout_ms = @timeout_ms, recorded = @recorded,
        updated_at = @updated_at
       WHERE tenant = @tenant AND id = @id`,
    ),
    deleteSite: db.prepare('DELETE FROM sites WHERE tenant = ? AND id = ?'),
    check: db.prepare('SELECT 1'),
    // Changes whenever another connection commits; never for this connection's own writes.
    dataVersion: db.prepare<[], { data_version: number }>('PRAGMA data_version'),
  };
  let dataVersion = statements.dataVersion.get()?.data_version;
  const removeTenant = db.transaction((id: string) => {
    statements.deleteTenantSites.run(id);
    return statements.deleteTenant.run(id).changes > 0;
  });
  let open = true;

  return {
    async listTenants() {
      return statements.tenants
        .all()
        .map((row): StoredTenant => ({ id: row.id, name: row.name, createdAt: row.created_at }));
    },
    async createTenant(tenant) {
      conflictAware(`the tenant "${tenant.id}" already exists`, () =>
        statements.insertTenant.run(tenant.id, tenant.name, tenant.createdAt),
      );
    },
    async removeTenant(id) {
      return removeTenant.immediate(id);
    },
    async listSites() {
      return statements.sites.all().map(fromRow);
    },
    async insertSite(site) {
      conflictAware(`the tenant "${site.tenant}" already has a site "${site.id}"`, () =>
        statements.insertSite.run(toRow(site)),
      );
    },
    async updateSite(site) {
      return statements.updateSite.run(toRow(site)).changes > 0;
    },
    async removeSite(tenant, id) {
      return statements.deleteSite.run(tenant, id).changes > 0;
    },
    async changedElsewhere() {
      if (!open) return false;
      const current = statements.dataVersion.get()?.data_version;
      if (current === dataVersion) return false;
      dataVersion = current;
      return true;
    },
    async check() {
      if (!open) throw new Error('the registry store is closed');
      statements.check.get();
    },
    async close() {
      if (!open) return;
      open = false;
      db.close();
    },
  };
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new RegistrySchemaTooNewError(
      `The registry database is at schema version ${current}, newer than this code knows (${MIGRATIONS.length})`,
    );
  }
  MIGRATIONS.forEach((sql, index) => {
    const version = index + 1;
    if (version <= current) return;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    }).immediate();
  });
}

function conflictAware(message: string, write: () => unknown): void {
  try {
    write();
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      throw new RegistryConflictError(message);
    }
    throw error;
  }
}

function toRow(site: StoredSite): SiteRow {
  return {
    tenant: site.tenant,
    id: site.id,
    url: site.url,
    token: site.token,
    name: site.name,
    enabled: site.enabled ? 1 : 0,
    visible: site.visible ? 1 : 0,
    trusted: site.trusted ? 1 : 0,
    priority: site.priority,
    timeout_ms: site.timeoutMs,
    recorded: JSON.stringify(site.recorded),
    created_at: site.createdAt,
    updated_at: site.updatedAt,
  };
}

function fromRow(row: SiteRow): StoredSite {
  return {
    tenant: row.tenant,
    id: row.id,
    url: row.url,
    token: row.token,
    name: row.name,
    enabled: row.enabled === 1,
    visible: row.visible === 1,
    trusted: row.trusted === 1,
    priority: row.priority,
    timeoutMs: row.timeout_ms,
    recorded: JSON.parse(row.recorded) as RecordedSiteInfo,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
