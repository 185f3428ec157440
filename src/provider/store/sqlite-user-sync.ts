import Database from 'better-sqlite3';
import { hashToken, tokenHint } from '../token-generator.js';
import { type ProviderUser, StoreConflictError, StoreInvariantError } from './repository.js';
import type {
  RegistrationRepository,
  RemoteUserSyncRepository,
  SecurityToken,
  SecurityTokenRepository,
  Workspace,
  WorkspaceRegistration,
  WorkspaceRepository,
} from './user-sync-repository.js';

export interface SqliteUserSyncDependencies {
  /** The store's open database (migrations applied). */
  readonly db: Database.Database;
  /** Unix seconds by the store's clock. */
  readonly now: () => number;
  /** Throws when the store is closed. */
  readonly assertOpen: () => void;
  /** The store's own reading of a user, so a synchronized user reads like any other. */
  readonly userById: (id: number) => ProviderUser | null;
}

export interface SqliteUserSyncRepositories {
  readonly securityTokens: SecurityTokenRepository;
  readonly workspaces: WorkspaceRepository;
  readonly registrations: RegistrationRepository;
  readonly remoteUsers: RemoteUserSyncRepository;
}

interface SecurityTokenRow {
  id: number;
  client_name: string;
  ip_address: string;
  token_hash: string;
  hint: string;
  last_used: number | null;
  timecreated: number;
}

interface WorkspaceRow {
  id: number;
  code: string;
  name: string;
  owner_user_id: number | null;
  timecreated: number;
  timemodified: number;
}

interface RegistrationRow {
  workspace_id: number;
  user_id: number;
  role_key: string;
  timecreated: number;
}

interface UserRow {
  id: number;
  username: string;
  firstname: string;
  lastname: string;
  email: string;
  password_hash: string | null;
}

const toSecurityToken = (row: SecurityTokenRow): SecurityToken => ({
  id: row.id,
  clientName: row.client_name,
  ipAddress: row.ip_address,
  tokenHash: row.token_hash,
  hint: row.hint,
  lastUsed: row.last_used,
  timecreated: row.timecreated,
});

const toRegistration = (row: RegistrationRow): WorkspaceRegistration => ({
  workspaceId: row.workspace_id,
  userId: row.user_id,
  role: row.role_key,
  timecreated: row.timecreated,
});

function isConstraint(error: unknown, kind: 'UNIQUE' | 'FOREIGNKEY'): boolean {
  return error instanceof Database.SqliteError && error.code === `SQLITE_CONSTRAINT_${kind}`;
}

const pairKey = (workspaceId: number, role: string) => `${workspaceId}\u0000${role}`;

/** The SQLite side of remote user synchronization, sharing the store's database and clock. */
export function createSqliteUserSyncRepositories(
  deps: SqliteUserSyncDependencies,
): SqliteUserSyncRepositories {
  const { db, now, assertOpen, userById } = deps;

  const stmt = {
    insertToken: db.prepare<Record<string, unknown>, SecurityTokenRow>(`
      INSERT INTO security_tokens (client_name, ip_address, token_hash, hint, timecreated)
      VALUES (@client_name, @ip_address, @token_hash, @hint, @now) RETURNING *`),
    tokenByClient: db.prepare<[string], SecurityTokenRow>(
      'SELECT * FROM security_tokens WHERE client_name = ?',
    ),
    tokens: db.prepare<[], SecurityTokenRow>('SELECT * FROM security_tokens ORDER BY client_name'),
    deleteToken: db.prepare<[number]>('DELETE FROM security_tokens WHERE id = ?'),
    touchToken: db.prepare<[number, number]>('UPDATE security_tokens SET last_used = ? WHERE id = ?'),

    insertWorkspace: db.prepare<Record<string, unknown>, WorkspaceRow>(`
      INSERT INTO workspaces (code, name, owner_user_id, timecreated, timemodified)
      VALUES (@code, @name, @owner_user_id, @now, @now) RETURNING *`),
    updateWorkspace: db.prepare<Record<string, unknown>, WorkspaceRow>(`
      UPDATE workspaces SET code = @code, name = @name, owner_user_id = @owner_user_id, timemodified = @now
      WHERE id = @id RETURNING *`),
    touchWorkspace: db.prepare<[number, number]>('UPDATE workspaces SET timemodified = ? WHERE id = ?'),
    deleteWorkspace: db.prepare<[number]>('DELETE FROM workspaces WHERE id = ?'),
    workspaceById: db.prepare<[number], WorkspaceRow>('SELECT * FROM workspaces WHERE id = ?'),
    workspaceByCode: db.prepare<[string], WorkspaceRow>('SELECT * FROM workspaces WHERE code = ?'),
    workspaces: db.prepare<[], WorkspaceRow>('SELECT * FROM workspaces ORDER BY code'),
    ownedWorkspaceIds: db.prepare<[number], { id: number }>(
      'SELECT id FROM workspaces WHERE owner_user_id = ?',
    ),
    roles: db.prepare<[number], { role_key: string }>(
      'SELECT role_key FROM workspace_roles WHERE workspace_id = ? ORDER BY role_key',
    ),
    addRole: db.prepare<[number, string]>(
      'INSERT OR IGNORE INTO workspace_roles (workspace_id, role_key) VALUES (?, ?)',
    ),
    removeRole: db.prepare<[number, string]>(
      'DELETE FROM workspace_roles WHERE workspace_id = ? AND role_key = ?',
    ),
    hasRole: db.prepare<[number, string], { found: number }>(
      'SELECT 1 AS found FROM workspace_roles WHERE workspace_id = ? AND role_key = ?',
    ),

    insertRegistration: db.prepare<Record<string, unknown>>(`
      INSERT OR IGNORE INTO workspace_registrations (workspace_id, user_id, role_key, timecreated)
      VALUES (@workspace_id, @user_id, @role_key, @now)`),
    registration: db.prepare<[number, number, string], RegistrationRow>(
      'SELECT * FROM workspace_registrations WHERE workspace_id = ? AND user_id = ? AND role_key = ?',
    ),
    removeRegistration: db.prepare<[number, number, string]>(
      'DELETE FROM workspace_registrations WHERE workspace_id = ? AND user_id = ? AND role_key = ?',
    ),
    removeRegistrations: db.prepare<[number, number]>(
      'DELETE FROM workspace_registrations WHERE workspace_id = ? AND user_id = ?',
    ),
    registrations: db.prepare<{ workspace_id: number | null; user_id: number | null }, RegistrationRow>(`
      SELECT * FROM workspace_registrations
      WHERE (@workspace_id IS NULL OR workspace_id = @workspace_id) AND (@user_id IS NULL OR user_id = @user_id)
      ORDER BY workspace_id, user_id, role_key`),

    userById: db.prepare<[number], UserRow>('SELECT * FROM users WHERE id = ?'),
    userIdByUsername: db.prepare<[string], { id: number }>('SELECT id FROM users WHERE username = ?'),
    userIdsByEmail: db.prepare<[string], { id: number }>(
      'SELECT id FROM users WHERE email = ? COLLATE NOCASE',
    ),
    insertUser: db.prepare<Record<string, unknown>, UserRow>(`
      INSERT INTO users (username, firstname, lastname, email, password_hash, timecreated, timemodified)
      VALUES (@username, @firstname, @lastname, @email, @password_hash, @now, @now) RETURNING *`),
    updateUser: db.prepare<Record<string, unknown>, UserRow>(`
      UPDATE users SET username = @username, firstname = @firstname, lastname = @lastname, email = @email,
        password_hash = @password_hash, timemodified = @now
      WHERE id = @id RETURNING *`),
  };

  function toWorkspace(row: WorkspaceRow): Workspace {
    return {
      id: row.id,
      code: row.code,
      name: row.name,
      ownerUserId: row.owner_user_id,
      roles: stmt.roles.all(row.id).map((role) => role.role_key),
      timecreated: row.timecreated,
      timemodified: row.timemodified,
    };
  }

  function workspaceError(error: unknown, code: string | undefined): unknown {
    if (isConstraint(error, 'UNIQUE')) {
      return new StoreConflictError('code', `The workspace code ${code} is taken`, { cause: error });
    }
    if (isConstraint(error, 'FOREIGNKEY')) {
      return new StoreInvariantError('ownerUserId', 'The owner does not exist');
    }
    return error;
  }

  function setRoles(workspaceId: number, roles: readonly string[]): void {
    const wanted = new Set(roles);
    for (const { role_key } of stmt.roles.all(workspaceId)) {
      if (!wanted.has(role_key)) stmt.removeRole.run(workspaceId, role_key);
    }
    for (const role of wanted) stmt.addRole.run(workspaceId, role);
  }

  const securityTokens: SecurityTokenRepository = {
    async create(input) {
      assertOpen();
      try {
        const row = stmt.insertToken.get({
          client_name: input.clientName,
          ip_address: input.ipAddress,
          token_hash: hashToken(input.token),
          hint: tokenHint(input.token),
          now: now(),
        });
        return toSecurityToken(row as SecurityTokenRow);
      } catch (error) {
        if (isConstraint(error, 'UNIQUE')) {
          throw new StoreConflictError('clientName', `The client name ${input.clientName} is taken`, {
            cause: error,
          });
        }
        throw error;
      }
    },

    async getByClientName(clientName) {
      assertOpen();
      const row = stmt.tokenByClient.get(clientName);
      return row ? toSecurityToken(row) : null;
    },

    async list() {
      assertOpen();
      return stmt.tokens.all().map(toSecurityToken);
    },

    async delete(id) {
      assertOpen();
      return stmt.deleteToken.run(id).changes > 0;
    },

    async touch(id, at = now()) {
      assertOpen();
      stmt.touchToken.run(at, id);
    },
  };

  const workspaces: WorkspaceRepository = {
    async create(input) {
      assertOpen();
      try {
        return db
          .transaction(() => {
            const row = stmt.insertWorkspace.get({
              code: input.code,
              name: input.name,
              owner_user_id: input.ownerUserId ?? null,
              now: now(),
            }) as WorkspaceRow;
            setRoles(row.id, input.roles);
            return toWorkspace(row);
          })
          .immediate();
      } catch (error) {
        throw workspaceError(error, input.code);
      }
    },

    async update(id, patch) {
      assertOpen();
      try {
        return db
          .transaction(() => {
            const current = stmt.workspaceById.get(id);
            if (!current) return null;
            const row = stmt.updateWorkspace.get({
              id,
              code: patch.code ?? current.code,
              name: patch.name ?? current.name,
              owner_user_id: patch.ownerUserId === undefined ? current.owner_user_id : patch.ownerUserId,
              now: now(),
            }) as WorkspaceRow;
            if (patch.roles) setRoles(id, patch.roles);
            return toWorkspace(row);
          })
          .immediate();
      } catch (error) {
        throw workspaceError(error, patch.code);
      }
    },

    async delete(id) {
      assertOpen();
      return db.transaction(() => stmt.deleteWorkspace.run(id).changes > 0).immediate();
    },

    async getById(id) {
      assertOpen();
      const row = stmt.workspaceById.get(id);
      return row ? toWorkspace(row) : null;
    },

    async getByCode(code) {
      assertOpen();
      const row = stmt.workspaceByCode.get(code);
      return row ? toWorkspace(row) : null;
    },

    async list() {
      assertOpen();
      return stmt.workspaces.all().map(toWorkspace);
    },
  };

  const registrations: RegistrationRepository = {
    async add(workspaceId, userId, role) {
      assertOpen();
      return db
        .transaction(() => {
          if (!stmt.workspaceById.get(workspaceId)) {
            throw new StoreInvariantError('workspaceId', `There is no workspace with id ${workspaceId}`);
          }
          if (!stmt.userById.get(userId)) {
            throw new StoreInvariantError('userId', `There is no user with id ${userId}`);
          }
          if (!stmt.hasRole.get(workspaceId, role)) {
            throw new StoreInvariantError('role', `The workspace has no role ${role}`);
          }
          stmt.insertRegistration.run({
            workspace_id: workspaceId,
            user_id: userId,
            role_key: role,
            now: now(),
          });
          stmt.touchWorkspace.run(now(), workspaceId);
          return toRegistration(stmt.registration.get(workspaceId, userId, role) as RegistrationRow);
        })
        .immediate();
    },

    async remove(workspaceId, userId, role) {
      assertOpen();
      return db
        .transaction(() => {
          const removed =
            role === undefined
              ? stmt.removeRegistrations.run(workspaceId, userId).changes
              : stmt.removeRegistration.run(workspaceId, userId, role).changes;
          if (removed > 0) stmt.touchWorkspace.run(now(), workspaceId);
          return removed;
        })
        .immediate();
    },

    async list(filter = {}) {
      assertOpen();
      return stmt.registrations
        .all({ workspace_id: filter.workspaceId ?? null, user_id: filter.userId ?? null })
        .map(toRegistration);
    },
  };

  const remoteUsers: RemoteUserSyncRepository = {
    async apply(write) {
      assertOpen();
      return db
        .transaction(() => {
          const current = write.userId === null ? undefined : stmt.userById.get(write.userId);
          if (write.userId !== null && !current) {
            return { ok: false, reason: 'user-not-found', detail: `userId ${write.userId}` } as const;
          }
          const selfId = current?.id;
          const sameName = stmt.userIdByUsername.get(write.username);
          if (sameName && sameName.id !== selfId) {
            return { ok: false, reason: 'username-taken', detail: `username ${write.username}` } as const;
          }
          if (stmt.userIdsByEmail.all(write.email).some((row) => row.id !== selfId)) {
            return { ok: false, reason: 'email-taken', detail: `email ${write.email}` } as const;
          }
          const wanted = new Map<string, { workspaceId: number; role: string }>();
          for (const { workspaceCode, role } of write.registrations) {
            const workspace = stmt.workspaceByCode.get(workspaceCode);
            if (!workspace) {
              return {
                ok: false,
                reason: 'unknown-workspace',
                detail: `workspace ${workspaceCode}`,
              } as const;
            }
            if (!stmt.hasRole.get(workspace.id, role)) {
              return {
                ok: false,
                reason: 'unknown-role',
                detail: `role ${role} in workspace ${workspaceCode}`,
              } as const;
            }
            wanted.set(pairKey(workspace.id, role), { workspaceId: workspace.id, role });
          }

          const at = now();
          let row: UserRow;
          let changed = false;
          if (!current) {
            if (write.passwordHash === undefined) {
              throw new StoreInvariantError('passwordHash', 'A new user needs a password');
            }
            row = stmt.insertUser.get({
              username: write.username,
              firstname: write.firstname,
              lastname: write.lastname,
              email: write.email,
              password_hash: write.passwordHash,
              now: at,
            }) as UserRow;
            changed = true;
          } else {
            const differs =
              current.username !== write.username ||
              current.firstname !== write.firstname ||
              current.lastname !== write.lastname ||
              current.email !== write.email ||
              (write.passwordHash !== undefined && write.passwordHash !== current.password_hash);
            row = current;
            if (differs) {
              row = stmt.updateUser.get({
                id: current.id,
                username: write.username,
                firstname: write.firstname,
                lastname: write.lastname,
                email: write.email,
                password_hash: write.passwordHash ?? current.password_hash,
                now: at,
              }) as UserRow;
              changed = true;
            }
          }

          const owned = new Set(stmt.ownedWorkspaceIds.all(row.id).map((w) => w.id));
          const held = stmt.registrations.all({ workspace_id: null, user_id: row.id });
          const heldKeys = new Set(held.map((r) => pairKey(r.workspace_id, r.role_key)));
          const touched = new Set<number>();
          for (const registration of held) {
            const key = pairKey(registration.workspace_id, registration.role_key);
            if (wanted.has(key) || owned.has(registration.workspace_id)) continue;
            stmt.removeRegistration.run(registration.workspace_id, row.id, registration.role_key);
            touched.add(registration.workspace_id);
          }
          for (const [key, { workspaceId, role }] of wanted) {
            if (heldKeys.has(key)) continue;
            stmt.insertRegistration.run({
              workspace_id: workspaceId,
              user_id: row.id,
              role_key: role,
              now: at,
            });
            touched.add(workspaceId);
          }
          for (const workspaceId of touched) stmt.touchWorkspace.run(at, workspaceId);
          changed ||= touched.size > 0;
          return { ok: true, user: userById(row.id) as ProviderUser, created: !current, changed } as const;
        })
        .immediate();
    },
  };

  return { securityTokens, workspaces, registrations, remoteUsers };
}
