import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { hashToken, tokenHint } from '../token-generator.js';
import type { BlobStore } from './blob-store.js';
import { createFileBlobStore } from './file-blob-store.js';
import { migrateSchema } from './migrations.js';
import {
  type GeneratedZip,
  type GeneratedZipRepository,
  NO_CAPABILITIES,
  type PrivateFile,
  type PrivateFileRepository,
  type ProviderService,
  type ProviderStore,
  type ProviderUser,
  type ServiceRepository,
  StoreConflictError,
  StoreInvariantError,
  type SweepOptions,
  type SweepResult,
  type TokenRepository,
  type UserRepository,
  type WebServiceToken,
  type ZipReadLease,
} from './repository.js';
import { createSqliteUserSyncRepositories } from './sqlite-user-sync.js';

export interface SqliteStoreOptions {
  /** Holds `provider.sqlite` (+ WAL files), `filedir/` and `temp/`; created when missing. */
  readonly dataDir: string;
  /** @default silent */
  readonly logger?: Logger;
  /** Milliseconds since the epoch; tests move time with it. @default Date.now */
  readonly clock?: () => number;
  /**
   * Temp files older than this are removed at start (leftovers of a crash). Younger ones may belong
   * to another process sharing the data directory (the CLI next to the server).
   * @default 3_600_000 (one hour)
   */
  readonly staleTempMs?: number;
  /** Swap the blob store (object storage, a test double). @default the filedir under `dataDir` */
  readonly blobs?: BlobStore;
}

const DEFAULT_GRACE_MS = 3_600_000;

interface UserRow {
  id: number;
  username: string;
  firstname: string;
  lastname: string;
  email: string;
  lang: string;
  suspended: number;
  password_hash: string | null;
  can_retrieve_files_from_other_users: number;
  can_create_draft_user_files_for_other_users: number;
  timecreated: number;
  timemodified: number;
}

interface FileRow {
  id: number;
  user_id: number;
  filepath: string;
  filename: string;
  size: number;
  mimetype: string;
  contenthash: string;
  timecreated: number;
  timemodified: number;
}

interface ServiceRow {
  id: number;
  shortname: string;
  name: string;
  download_files: number;
  upload_files: number;
  restricted_users: number;
  enabled: number;
  timecreated: number;
  timemodified: number;
}

interface TokenRow {
  id: number;
  token_hash: string;
  hint: string;
  user_id: number;
  service_id: number;
  ip_restriction: string;
  valid_until: number | null;
  last_access: number | null;
  timecreated: number;
}

interface ZipRow {
  id: number;
  contextid: number;
  itemid: number;
  filepath: string;
  filename: string;
  contenthash: string;
  size: number;
  owner_user_id: number;
  requested_by_user_id: number;
  timecreated: number;
  source: string;
}

const toUser = (row: UserRow): ProviderUser => ({
  id: row.id,
  username: row.username,
  firstname: row.firstname,
  lastname: row.lastname,
  email: row.email,
  lang: row.lang,
  suspended: row.suspended === 1,
  passwordHash: row.password_hash,
  capabilities: {
    canRetrieveFilesFromOtherUsers: row.can_retrieve_files_from_other_users === 1,
    canCreateDraftUserFilesForOtherUsers: row.can_create_draft_user_files_for_other_users === 1,
  },
  timecreated: row.timecreated,
  timemodified: row.timemodified,
});

const toFile = (row: FileRow): PrivateFile => ({
  id: row.id,
  userId: row.user_id,
  filepath: row.filepath,
  filename: row.filename,
  size: row.size,
  mimetype: row.mimetype,
  contenthash: row.contenthash,
  timecreated: row.timecreated,
  timemodified: row.timemodified,
});

const toToken = (row: TokenRow): WebServiceToken => ({
  id: row.id,
  tokenHash: row.token_hash,
  hint: row.hint,
  userId: row.user_id,
  serviceId: row.service_id,
  ipRestriction: JSON.parse(row.ip_restriction) as string[],
  validUntil: row.valid_until,
  lastAccess: row.last_access,
  timecreated: row.timecreated,
});

const toZip = (row: ZipRow): GeneratedZip => ({
  id: row.id,
  contextid: row.contextid,
  itemid: row.itemid,
  filepath: row.filepath,
  filename: row.filename,
  contenthash: row.contenthash,
  size: row.size,
  ownerUserId: row.owner_user_id,
  requestedByUserId: row.requested_by_user_id,
  timecreated: row.timecreated,
  source: row.source,
});

const bit = (value: boolean) => (value ? 1 : 0);

function isConstraint(error: unknown, kind: 'UNIQUE' | 'FOREIGNKEY'): boolean {
  return error instanceof Database.SqliteError && error.code === `SQLITE_CONSTRAINT_${kind}`;
}

const NORMALISED_FILEPATH = /^\/(?:[^/]+\/)*$/;

function assertUsername(username: string): void {
  if (username.length === 0 || username !== username.trim().toLowerCase()) {
    throw new StoreInvariantError('username', 'A username must be non-empty, trimmed and lower case');
  }
}

/** The embedded store: SQLite (WAL) for metadata beside a content-addressed blob directory. */
export async function createSqliteStore(options: SqliteStoreOptions): Promise<ProviderStore> {
  const { dataDir, logger, clock = Date.now, staleTempMs = DEFAULT_GRACE_MS } = options;
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, 'provider.sqlite'));
  const blobs = options.blobs ?? createFileBlobStore({ dataDir });
  try {
    db.pragma('journal_mode = WAL');
    // FULL, so a reported success survives power loss too, not only a process crash.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const applied = migrateSchema(db);
    if (applied.length > 0) logger?.info({ applied }, 'provider store schema migrated');
    const removed = await blobs.removeStaleTempFiles({ olderThanMs: staleTempMs });
    if (removed > 0) logger?.warn({ removed }, 'removed temp files left by an interrupted write');
  } catch (error) {
    db.close();
    throw error;
  }

  const now = () => Math.floor(clock() / 1000);
  const zipLeases = new Map<number, number>();
  const hashLeases = new Map<string, number>();
  let closed = false;

  const stmt = {
    userById: db.prepare<[number], UserRow>('SELECT * FROM users WHERE id = ?'),
    userByUsername: db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?'),
    usersByEmail: db.prepare<[string], UserRow>(
      'SELECT * FROM users WHERE email = ? COLLATE NOCASE ORDER BY id',
    ),
    users: db.prepare<[], UserRow>('SELECT * FROM users ORDER BY id'),
    insertUser: db.prepare<Record<string, unknown>, UserRow>(`
      INSERT INTO users (username, firstname, lastname, email, lang, suspended, password_hash,
        can_retrieve_files_from_other_users, can_create_draft_user_files_for_other_users, timecreated, timemodified)
      VALUES (@username, @firstname, @lastname, @email, @lang, @suspended, @password_hash,
        @can_retrieve, @can_create, @now, @now)
      RETURNING *`),
    updateUser: db.prepare<Record<string, unknown>, UserRow>(`
      UPDATE users SET username = @username, firstname = @firstname, lastname = @lastname, email = @email,
        lang = @lang, suspended = @suspended, password_hash = @password_hash,
        can_retrieve_files_from_other_users = @can_retrieve,
        can_create_draft_user_files_for_other_users = @can_create, timemodified = @now
      WHERE id = @id RETURNING *`),
    deleteUser: db.prepare<[number]>('DELETE FROM users WHERE id = ?'),
    zipHashesOfUser: db.prepare<[number, number], { contenthash: string }>(
      'SELECT contenthash FROM generated_zips WHERE owner_user_id = ? OR requested_by_user_id = ?',
    ),

    putFile: db.prepare<Record<string, unknown>, FileRow>(`
      INSERT INTO private_files (user_id, filepath, filename, size, mimetype, contenthash, timecreated, timemodified)
      VALUES (@user_id, @filepath, @filename, @size, @mimetype, @contenthash, @now, @now)
      ON CONFLICT (user_id, filepath, filename) DO UPDATE SET size = excluded.size,
        mimetype = excluded.mimetype, contenthash = excluded.contenthash, timemodified = excluded.timemodified
      RETURNING *`),
    file: db.prepare<[number, string, string], FileRow>(
      'SELECT * FROM private_files WHERE user_id = ? AND filepath = ? AND filename = ?',
    ),
    files: db.prepare<[number], FileRow>(
      'SELECT * FROM private_files WHERE user_id = ? ORDER BY filepath, filename',
    ),
    deleteFile: db.prepare<[number, string, string]>(
      'DELETE FROM private_files WHERE user_id = ? AND filepath = ? AND filename = ?',
    ),
    totalSize: db.prepare<[number], { total: number }>(
      'SELECT COALESCE(SUM(size), 0) AS total FROM private_files WHERE user_id = ?',
    ),

    serviceById: db.prepare<[number], ServiceRow>('SELECT * FROM services WHERE id = ?'),
    serviceByShortname: db.prepare<[string], ServiceRow>('SELECT * FROM services WHERE shortname = ?'),
    services: db.prepare<[], ServiceRow>('SELECT * FROM services ORDER BY id'),
    insertService: db.prepare<Record<string, unknown>, ServiceRow>(`
      INSERT INTO services (shortname, name, download_files, upload_files, restricted_users, enabled,
        timecreated, timemodified)
      VALUES (@shortname, @name, @download_files, @upload_files, @restricted_users, @enabled, @now, @now)
      RETURNING *`),
    updateService: db.prepare<Record<string, unknown>, ServiceRow>(`
      UPDATE services SET shortname = @shortname, name = @name, download_files = @download_files,
        upload_files = @upload_files, restricted_users = @restricted_users, enabled = @enabled,
        timemodified = @now
      WHERE id = @id RETURNING *`),
    deleteService: db.prepare<[number]>('DELETE FROM services WHERE id = ?'),
    serviceFunctions: db.prepare<[number], { function_name: string }>(
      'SELECT function_name FROM service_functions WHERE service_id = ? ORDER BY function_name',
    ),
    clearServiceFunctions: db.prepare<[number]>('DELETE FROM service_functions WHERE service_id = ?'),
    addServiceFunction: db.prepare<[number, string]>(
      'INSERT OR IGNORE INTO service_functions (service_id, function_name) VALUES (?, ?)',
    ),
    serviceUsers: db.prepare<[number], { user_id: number }>(
      'SELECT user_id FROM service_users WHERE service_id = ? ORDER BY user_id',
    ),
    clearServiceUsers: db.prepare<[number]>('DELETE FROM service_users WHERE service_id = ?'),
    addServiceUser: db.prepare<[number, number]>(
      'INSERT OR IGNORE INTO service_users (service_id, user_id) VALUES (?, ?)',
    ),

    insertToken: db.prepare<Record<string, unknown>, TokenRow>(`
      INSERT INTO tokens (token_hash, hint, user_id, service_id, ip_restriction, valid_until, timecreated)
      VALUES (@token_hash, @hint, @user_id, @service_id, @ip_restriction, @valid_until, @now)
      RETURNING *`),
    tokenByHash: db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE token_hash = ?'),
    tokenById: db.prepare<[number], TokenRow>('SELECT * FROM tokens WHERE id = ?'),
    touchToken: db.prepare<[number, number]>('UPDATE tokens SET last_access = ? WHERE id = ?'),
    deleteToken: db.prepare<[number]>('DELETE FROM tokens WHERE id = ?'),
    tokens: db.prepare<{ user_id: number | null; service_id: number | null }, TokenRow>(`
      SELECT * FROM tokens WHERE (@user_id IS NULL OR user_id = @user_id)
        AND (@service_id IS NULL OR service_id = @service_id) ORDER BY id`),

    insertZip: db.prepare<Record<string, unknown>, ZipRow>(`
      INSERT INTO generated_zips (contextid, itemid, filename, contenthash, size, owner_user_id,
        requested_by_user_id, timecreated, source)
      VALUES (@contextid, @itemid, @filename, @contenthash, @size, @owner_user_id, @requested_by_user_id,
        @timecreated, @source)
      RETURNING *`),
    zip: db.prepare<[number, number, string], ZipRow>(
      'SELECT * FROM generated_zips WHERE contextid = ? AND itemid = ? AND filename = ?',
    ),
    zipById: db.prepare<[number], ZipRow>('SELECT * FROM generated_zips WHERE id = ?'),
    zipsOlderThan: db.prepare<[number], ZipRow>(
      'SELECT * FROM generated_zips WHERE timecreated < ? ORDER BY timecreated, id',
    ),
    deleteZip: db.prepare<[number]>('DELETE FROM generated_zips WHERE id = ?'),

    hashReferenced: db.prepare<[string, string], { found: number }>(`
      SELECT EXISTS (SELECT 1 FROM private_files WHERE contenthash = ?)
        OR EXISTS (SELECT 1 FROM generated_zips WHERE contenthash = ?) AS found`),
  };

  function assertOpen(): void {
    if (closed) throw new Error('The provider store is closed');
  }

  function userExists(id: number): boolean {
    return stmt.userById.get(id) !== undefined;
  }

  const users: UserRepository = {
    async create(input) {
      assertOpen();
      assertUsername(input.username);
      const capabilities = input.capabilities ?? NO_CAPABILITIES;
      try {
        const row = stmt.insertUser.get({
          username: input.username,
          firstname: input.firstname ?? '',
          lastname: input.lastname ?? '',
          email: input.email ?? '',
          lang: input.lang ?? 'en',
          suspended: bit(input.suspended ?? false),
          password_hash: input.passwordHash ?? null,
          can_retrieve: bit(capabilities.canRetrieveFilesFromOtherUsers),
          can_create: bit(capabilities.canCreateDraftUserFilesForOtherUsers),
          now: now(),
        });
        return toUser(row as UserRow);
      } catch (error) {
        if (isConstraint(error, 'UNIQUE')) {
          throw new StoreConflictError('username', `The username ${input.username} is taken`, {
            cause: error,
          });
        }
        throw error;
      }
    },

    async update(id, patch) {
      assertOpen();
      if (patch.username !== undefined) assertUsername(patch.username);
      return db
        .transaction(() => {
          const current = stmt.userById.get(id);
          if (!current) return null;
          const user = toUser(current);
          const capabilities = { ...user.capabilities, ...patch.capabilities };
          try {
            const row = stmt.updateUser.get({
              id,
              username: patch.username ?? user.username,
              firstname: patch.firstname ?? user.firstname,
              lastname: patch.lastname ?? user.lastname,
              email: patch.email ?? user.email,
              lang: patch.lang ?? user.lang,
              suspended: bit(patch.suspended ?? user.suspended),
              password_hash: patch.passwordHash === undefined ? user.passwordHash : patch.passwordHash,
              can_retrieve: bit(capabilities.canRetrieveFilesFromOtherUsers),
              can_create: bit(capabilities.canCreateDraftUserFilesForOtherUsers),
              now: now(),
            });
            return toUser(row as UserRow);
          } catch (error) {
            if (isConstraint(error, 'UNIQUE')) {
              throw new StoreConflictError('username', `The username ${patch.username} is taken`, {
                cause: error,
              });
            }
            throw error;
          }
        })
        .immediate();
    },

    async delete(id) {
      assertOpen();
      // Files, tokens, authorisations and zips go with the user through ON DELETE CASCADE.
      return db.transaction(() => stmt.deleteUser.run(id).changes > 0).immediate();
    },

    async getById(id) {
      assertOpen();
      const row = stmt.userById.get(id);
      return row ? toUser(row) : null;
    },

    async getByUsername(username) {
      assertOpen();
      const row = stmt.userByUsername.get(username);
      return row ? toUser(row) : null;
    },

    async listByEmail(email) {
      assertOpen();
      return stmt.usersByEmail.all(email).map(toUser);
    },

    async list() {
      assertOpen();
      return stmt.users.all().map(toUser);
    },
  };

  const files: PrivateFileRepository = {
    async put(input) {
      assertOpen();
      if (!NORMALISED_FILEPATH.test(input.filepath)) {
        throw new StoreInvariantError(
          'filepath',
          `Not a normalised folder path: ${JSON.stringify(input.filepath)}`,
        );
      }
      if (input.filename.length === 0 || input.filename.includes('/')) {
        throw new StoreInvariantError('filename', `Not a file name: ${JSON.stringify(input.filename)}`);
      }
      try {
        const row = stmt.putFile.get({
          user_id: input.userId,
          filepath: input.filepath,
          filename: input.filename,
          size: input.size,
          mimetype: input.mimetype,
          contenthash: input.contenthash,
          now: now(),
        });
        return toFile(row as FileRow);
      } catch (error) {
        if (isConstraint(error, 'FOREIGNKEY')) {
          throw new StoreInvariantError('userId', `There is no user with id ${input.userId}`);
        }
        throw error;
      }
    },

    async get(userId, filepath, filename) {
      assertOpen();
      const row = stmt.file.get(userId, filepath, filename);
      return row ? toFile(row) : null;
    },

    async list(userId) {
      assertOpen();
      return stmt.files.all(userId).map(toFile);
    },

    async delete(userId, filepath, filename) {
      assertOpen();
      return stmt.deleteFile.run(userId, filepath, filename).changes > 0;
    },

    async totalSize(userId) {
      assertOpen();
      return (stmt.totalSize.get(userId) as { total: number }).total;
    },
  };

  function toService(row: ServiceRow): ProviderService {
    return {
      id: row.id,
      shortname: row.shortname,
      name: row.name,
      functions: stmt.serviceFunctions.all(row.id).map((f) => f.function_name),
      downloadFiles: row.download_files === 1,
      uploadFiles: row.upload_files === 1,
      restrictedUsers: row.restricted_users === 1,
      authorisedUserIds: stmt.serviceUsers.all(row.id).map((u) => u.user_id),
      enabled: row.enabled === 1,
      timecreated: row.timecreated,
      timemodified: row.timemodified,
    };
  }

  function setServiceLists(
    serviceId: number,
    functions: readonly string[] | undefined,
    userIds: readonly number[] | undefined,
  ): void {
    if (functions) {
      stmt.clearServiceFunctions.run(serviceId);
      for (const name of functions) stmt.addServiceFunction.run(serviceId, name);
    }
    if (userIds) {
      stmt.clearServiceUsers.run(serviceId);
      for (const userId of userIds) {
        if (!userExists(userId)) {
          throw new StoreInvariantError('authorisedUserIds', `There is no user with id ${userId}`);
        }
        stmt.addServiceUser.run(serviceId, userId);
      }
    }
  }

  function serviceConflict(error: unknown, shortname: string | undefined): unknown {
    return isConstraint(error, 'UNIQUE')
      ? new StoreConflictError('shortname', `The service shortname ${shortname} is taken`, { cause: error })
      : error;
  }

  const services: ServiceRepository = {
    async create(input) {
      assertOpen();
      try {
        return db
          .transaction(() => {
            const row = stmt.insertService.get({
              shortname: input.shortname,
              name: input.name,
              download_files: bit(input.downloadFiles ?? false),
              upload_files: bit(input.uploadFiles ?? false),
              restricted_users: bit(input.restrictedUsers ?? true),
              enabled: bit(input.enabled ?? true),
              now: now(),
            }) as ServiceRow;
            setServiceLists(row.id, input.functions ?? [], input.authorisedUserIds ?? []);
            return toService(row);
          })
          .immediate();
      } catch (error) {
        throw serviceConflict(error, input.shortname);
      }
    },

    async update(id, patch) {
      assertOpen();
      try {
        return db
          .transaction(() => {
            const current = stmt.serviceById.get(id);
            if (!current) return null;
            const service = toService(current);
            const row = stmt.updateService.get({
              id,
              shortname: patch.shortname ?? service.shortname,
              name: patch.name ?? service.name,
              download_files: bit(patch.downloadFiles ?? service.downloadFiles),
              upload_files: bit(patch.uploadFiles ?? service.uploadFiles),
              restricted_users: bit(patch.restrictedUsers ?? service.restrictedUsers),
              enabled: bit(patch.enabled ?? service.enabled),
              now: now(),
            }) as ServiceRow;
            setServiceLists(id, patch.functions, patch.authorisedUserIds);
            return toService(row);
          })
          .immediate();
      } catch (error) {
        throw serviceConflict(error, patch.shortname);
      }
    },

    async delete(id) {
      assertOpen();
      return db.transaction(() => stmt.deleteService.run(id).changes > 0).immediate();
    },

    async getById(id) {
      assertOpen();
      const row = stmt.serviceById.get(id);
      return row ? toService(row) : null;
    },

    async getByShortname(shortname) {
      assertOpen();
      const row = stmt.serviceByShortname.get(shortname);
      return row ? toService(row) : null;
    },

    async list() {
      assertOpen();
      return stmt.services.all().map(toService);
    },
  };

  const tokens: TokenRepository = {
    async create(input) {
      assertOpen();
      return db
        .transaction(() => {
          if (!userExists(input.userId)) {
            throw new StoreInvariantError('userId', `There is no user with id ${input.userId}`);
          }
          if (!stmt.serviceById.get(input.serviceId)) {
            throw new StoreInvariantError('serviceId', `There is no service with id ${input.serviceId}`);
          }
          try {
            const row = stmt.insertToken.get({
              token_hash: hashToken(input.token),
              hint: tokenHint(input.token),
              user_id: input.userId,
              service_id: input.serviceId,
              ip_restriction: JSON.stringify(input.ipRestriction ?? []),
              valid_until: input.validUntil ?? null,
              now: now(),
            });
            return toToken(row as TokenRow);
          } catch (error) {
            if (isConstraint(error, 'UNIQUE')) {
              throw new StoreConflictError('token', 'This token already exists', { cause: error });
            }
            throw error;
          }
        })
        .immediate();
    },

    async findByToken(token) {
      assertOpen();
      const row = stmt.tokenByHash.get(hashToken(token));
      return row ? toToken(row) : null;
    },

    async getById(id) {
      assertOpen();
      const row = stmt.tokenById.get(id);
      return row ? toToken(row) : null;
    },

    async touch(id, at = now()) {
      assertOpen();
      stmt.touchToken.run(at, id);
    },

    async delete(id) {
      assertOpen();
      return stmt.deleteToken.run(id).changes > 0;
    },

    async list(filter = {}) {
      assertOpen();
      return stmt.tokens
        .all({ user_id: filter.userId ?? null, service_id: filter.serviceId ?? null })
        .map(toToken);
    },
  };

  function adjust<K>(map: Map<K, number>, key: K, delta: number): void {
    const next = (map.get(key) ?? 0) + delta;
    if (next <= 0) map.delete(key);
    else map.set(key, next);
  }

  const zips: GeneratedZipRepository = {
    async record(input) {
      assertOpen();
      try {
        const row = stmt.insertZip.get({
          contextid: input.contextid,
          itemid: input.itemid,
          filename: input.filename,
          contenthash: input.contenthash,
          size: input.size,
          owner_user_id: input.ownerUserId,
          requested_by_user_id: input.requestedByUserId,
          timecreated: input.timecreated ?? now(),
          source: input.source,
        });
        return toZip(row as ZipRow);
      } catch (error) {
        if (isConstraint(error, 'UNIQUE')) {
          throw new StoreConflictError(
            'itemid',
            `Draft item ${input.itemid} already holds ${input.filename}`,
            {
              cause: error,
            },
          );
        }
        if (isConstraint(error, 'FOREIGNKEY')) {
          throw new StoreInvariantError('ownerUserId', 'The owner or the requesting user does not exist');
        }
        throw error;
      }
    },

    async find(contextid, itemid, filename) {
      assertOpen();
      const row = stmt.zip.get(contextid, itemid, filename);
      return row ? toZip(row) : null;
    },

    async getById(id) {
      assertOpen();
      const row = stmt.zipById.get(id);
      return row ? toZip(row) : null;
    },

    async listOlderThan(cutoff) {
      assertOpen();
      return stmt.zipsOlderThan.all(cutoff).map(toZip);
    },

    async delete(id) {
      assertOpen();
      // Checked and deleted in one synchronous step, so no lease can slip in between.
      if (zipLeases.has(id)) return false;
      return stmt.deleteZip.run(id).changes > 0;
    },

    async acquireRead(id) {
      assertOpen();
      const row = stmt.zipById.get(id);
      if (!row) return null;
      const zip = toZip(row);
      adjust(zipLeases, id, 1);
      adjust(hashLeases, zip.contenthash, 1);
      let released = false;
      const lease: ZipReadLease = {
        zip,
        release() {
          if (released) return;
          released = true;
          adjust(zipLeases, id, -1);
          adjust(hashLeases, zip.contenthash, -1);
        },
      };
      return lease;
    },

    isBeingRead(id) {
      return zipLeases.has(id);
    },
  };

  function referencedNow(contenthash: string): boolean {
    return hashLeases.has(contenthash) || stmt.hashReferenced.get(contenthash, contenthash)?.found === 1;
  }

  /** The blob's size when it was deleted, `null` when kept. */
  async function collect(contenthash: string, graceMs: number): Promise<number | null> {
    if (referencedNow(contenthash)) return null;
    const info = await blobs.stat(contenthash);
    // Blob mtimes are real filesystem times, so the real clock, not the injected one.
    if (!info || Date.now() - info.mtimeMs < graceMs) return null;
    if (referencedNow(contenthash)) return null;
    return (await blobs.delete(contenthash, { ifVersion: info.version })) ? info.size : null;
  }

  async function deleteBlobIfUnreferenced(
    contenthash: string,
    { graceMs = DEFAULT_GRACE_MS }: SweepOptions = {},
  ): Promise<boolean> {
    assertOpen();
    return (await collect(contenthash, graceMs)) !== null;
  }

  async function sweepOrphanBlobs({ graceMs = DEFAULT_GRACE_MS }: SweepOptions = {}): Promise<SweepResult> {
    assertOpen();
    await blobs.removeStaleTempFiles({ olderThanMs: graceMs });
    let freedBlobs = 0;
    let freedBytes = 0;
    for await (const contenthash of blobs.list()) {
      if (closed) break;
      const size = await collect(contenthash, graceMs);
      if (size !== null) {
        freedBlobs++;
        freedBytes += size;
      }
    }
    if (freedBlobs > 0) logger?.info({ freedBlobs, freedBytes }, 'freed unreferenced blobs');
    return { freedBlobs, freedBytes };
  }

  const userSync = createSqliteUserSyncRepositories({
    db,
    now,
    assertOpen,
    userById: (id) => {
      const row = stmt.userById.get(id);
      return row ? toUser(row) : null;
    },
  });

  return {
    users,
    files,
    services,
    tokens,
    zips,
    blobs,
    ...userSync,
    async isBlobReferenced(contenthash) {
      assertOpen();
      return referencedNow(contenthash);
    },
    deleteBlobIfUnreferenced,
    sweepOrphanBlobs,
    now,
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
