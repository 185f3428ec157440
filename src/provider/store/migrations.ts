import type { Database } from 'better-sqlite3';

export interface Migration {
  /** Strictly increasing from 1; never renumber or edit a released migration, add a new one. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users, private files, services, tokens, generated zips',
    sql: `
      CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL UNIQUE,
        firstname TEXT NOT NULL DEFAULT '',
        lastname TEXT NOT NULL DEFAULT '',
        email TEXT NOT NULL DEFAULT '',
        lang TEXT NOT NULL DEFAULT 'en',
        suspended INTEGER NOT NULL DEFAULT 0,
        password_hash TEXT,
        can_retrieve_files_from_other_users INTEGER NOT NULL DEFAULT 0,
        can_create_draft_user_files_for_other_users INTEGER NOT NULL DEFAULT 0,
        timecreated INTEGER NOT NULL,
        timemodified INTEGER NOT NULL
      );

      CREATE TABLE private_files (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        filepath TEXT NOT NULL,
        filename TEXT NOT NULL,
        size INTEGER NOT NULL,
        mimetype TEXT NOT NULL,
        contenthash TEXT NOT NULL,
        timecreated INTEGER NOT NULL,
        timemodified INTEGER NOT NULL,
        UNIQUE (user_id, filepath, filename)
      );
      CREATE INDEX private_files_contenthash ON private_files (contenthash);

      CREATE TABLE services (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        shortname TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        download_files INTEGER NOT NULL DEFAULT 0,
        upload_files INTEGER NOT NULL DEFAULT 0,
        restricted_users INTEGER NOT NULL DEFAULT 1,
        enabled INTEGER NOT NULL DEFAULT 1,
        timecreated INTEGER NOT NULL,
        timemodified INTEGER NOT NULL
      );

      CREATE TABLE service_functions (
        service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
        function_name TEXT NOT NULL,
        PRIMARY KEY (service_id, function_name)
      );

      CREATE TABLE service_users (
        service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        PRIMARY KEY (service_id, user_id)
      );

      CREATE TABLE tokens (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        token_hash TEXT NOT NULL UNIQUE,
        hint TEXT NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
        ip_restriction TEXT NOT NULL DEFAULT '[]',
        valid_until INTEGER,
        last_access INTEGER,
        timecreated INTEGER NOT NULL
      );

      CREATE TABLE generated_zips (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        contextid INTEGER NOT NULL,
        itemid INTEGER NOT NULL,
        filepath TEXT NOT NULL DEFAULT '/',
        filename TEXT NOT NULL,
        contenthash TEXT NOT NULL,
        size INTEGER NOT NULL,
        owner_user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        requested_by_user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        timecreated INTEGER NOT NULL,
        source TEXT NOT NULL,
        UNIQUE (contextid, itemid, filename)
      );
      CREATE INDEX generated_zips_timecreated ON generated_zips (timecreated);
      CREATE INDEX generated_zips_contenthash ON generated_zips (contenthash);
    `,
  },
  {
    version: 2,
    name: 'remote user synchronization: security tokens, workspaces and their roles, registrations',
    sql: `
      CREATE TABLE security_tokens (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        client_name TEXT NOT NULL UNIQUE,
        ip_address TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        hint TEXT NOT NULL,
        last_used INTEGER,
        timecreated INTEGER NOT NULL
      );

      CREATE TABLE workspaces (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        code TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        owner_user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
        timecreated INTEGER NOT NULL,
        timemodified INTEGER NOT NULL
      );
      CREATE INDEX workspaces_owner ON workspaces (owner_user_id);

      CREATE TABLE workspace_roles (
        workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        role_key TEXT NOT NULL,
        PRIMARY KEY (workspace_id, role_key)
      );

      CREATE TABLE workspace_registrations (
        workspace_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role_key TEXT NOT NULL,
        timecreated INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, user_id, role_key),
        FOREIGN KEY (workspace_id, role_key) REFERENCES workspace_roles (workspace_id, role_key)
          ON DELETE CASCADE
      );
      CREATE INDEX workspace_registrations_user ON workspace_registrations (user_id);
    `,
  },
];

/** The database was written by a newer version of the code; refusing beats corrupting it. */
export class SchemaTooNewError extends Error {
  override readonly name = 'SchemaTooNewError';
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(`The provider database is at schema version ${found}, newer than this code knows (${known})`);
  }
}

/** Applies the migrations the database lacks, each in its own transaction; returns the applied versions. */
export function migrateSchema(db: Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec(`
    CREATE TABLE IF NOT EXISTS schema_version (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )
  `);
  const current =
    (db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null }).v ?? 0;
  const known = migrations.at(-1)?.version ?? 0;
  if (current > known) throw new SchemaTooNewError(current, known);
  const record = db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)');
  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, Math.floor(Date.now() / 1000));
    }).immediate();
    applied.push(migration.version);
  }
  return applied;
}
