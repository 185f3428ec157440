import type { ProviderUser } from './repository.js';

/*
 * The provider's part of remote user synchronization (Claroline's contract): the security tokens
 * that may call the endpoint, the workspaces users are registered in, and the one atomic write a
 * synchronization makes. Same conventions as repository.ts: Promise-based, Unix seconds, integer ids.
 */

/** Who may call the synchronization endpoint: the triple client name + token + caller address. */
export interface SecurityToken {
  readonly id: number;
  /** Unique; the request's `client`. */
  readonly clientName: string;
  /** An address, a CIDR range or Moodle's `a.b.c.x-y`, matched against the caller's address. */
  readonly ipAddress: string;
  /** SHA-256 hex of the clear token; the clear token is shown once, at creation. */
  readonly tokenHash: string;
  /** The clear token's last 4 characters, for a masked form. */
  readonly hint: string;
  readonly lastUsed: number | null;
  readonly timecreated: number;
}

export interface NewSecurityToken {
  readonly clientName: string;
  readonly ipAddress: string;
  /** The clear token; only its hash is kept. */
  readonly token: string;
}

export interface SecurityTokenRepository {
  /** @throws StoreConflictError (`field: 'clientName'`) when the client name is taken. */
  create(input: NewSecurityToken): Promise<SecurityToken>;
  getByClientName(clientName: string): Promise<SecurityToken | null>;
  /** Ordered by client name. */
  list(): Promise<SecurityToken[]>;
  delete(id: number): Promise<boolean>;
  /** Records a use. @default at now */
  touch(id: number, at?: number): Promise<void>;
}

/** A workspace (Claroline's word; a course elsewhere): what users are registered in, with a role. */
export interface Workspace {
  readonly id: number;
  /** Unique; what a synchronization names it by. */
  readonly code: string;
  readonly name: string;
  /** The owner keeps their registrations whatever a synchronization says. */
  readonly ownerUserId: number | null;
  /** The role keys a user may hold in it, sorted (`collaborator`, `manager`, …). */
  readonly roles: readonly string[];
  readonly timecreated: number;
  readonly timemodified: number;
}

export interface NewWorkspace {
  readonly code: string;
  readonly name: string;
  /** @default null */
  readonly ownerUserId?: number | null;
  readonly roles: readonly string[];
}

export type WorkspacePatch = Partial<NewWorkspace>;

export interface WorkspaceRepository {
  /**
   * @throws StoreConflictError (`field: 'code'`) when the code is taken.
   * @throws StoreInvariantError (`field: 'ownerUserId'`) when the owner does not exist.
   */
  create(input: NewWorkspace): Promise<Workspace>;
  /**
   * `null` when absent. Given `roles` replace the current ones; registrations under a role that goes
   * go with it. Same errors as `create`.
   */
  update(id: number, patch: WorkspacePatch): Promise<Workspace | null>;
  /** Deletes the workspace with its roles and registrations. */
  delete(id: number): Promise<boolean>;
  getById(id: number): Promise<Workspace | null>;
  getByCode(code: string): Promise<Workspace | null>;
  /** Ordered by code. */
  list(): Promise<Workspace[]>;
}

/** A user holding a role in a workspace; a user may hold several roles in one workspace. */
export interface WorkspaceRegistration {
  readonly workspaceId: number;
  readonly userId: number;
  readonly role: string;
  readonly timecreated: number;
}

export interface RegistrationRepository {
  /**
   * Registers the user with the role; registering again keeps the first registration.
   * @throws StoreInvariantError when the workspace, the user or the role (in that workspace) is unknown.
   */
  add(workspaceId: number, userId: number, role: string): Promise<WorkspaceRegistration>;
  /** Removes one role, or every role of the user in the workspace; answers how many went. */
  remove(workspaceId: number, userId: number, role?: string): Promise<number>;
  /** Ordered by workspace id, user id, role; filters combine. */
  list(filter?: {
    readonly workspaceId?: number;
    readonly userId?: number;
  }): Promise<WorkspaceRegistration[]>;
}

/** One synchronization of a user, as the endpoint decided it. */
export interface RemoteUserWrite {
  /** The user to update; `null` creates one. */
  readonly userId: number | null;
  /** Already validated (lower case, trimmed). */
  readonly username: string;
  readonly firstname: string;
  readonly lastname: string;
  readonly email: string;
  /** A new password hash; `undefined` keeps the current one (the same password was sent). Required to create. */
  readonly passwordHash?: string;
  /** Where the user ends registered, by workspace code and role key. */
  readonly registrations: readonly { readonly workspaceCode: string; readonly role: string }[];
}

export type RemoteUserRefusal =
  | 'user-not-found'
  | 'username-taken'
  | 'email-taken'
  | 'unknown-workspace'
  | 'unknown-role';

export type RemoteUserSyncOutcome =
  | {
      readonly ok: true;
      readonly user: ProviderUser;
      readonly created: boolean;
      /** Whether anything was written: `false` when the store already held exactly this. */
      readonly changed: boolean;
    }
  | {
      readonly ok: false;
      readonly reason: RemoteUserRefusal;
      /** For logs: which value was refused (never a password). */
      readonly detail: string;
    };

export interface RemoteUserSyncRepository {
  /**
   * In one transaction: checks the user exists (when updating), that the username and the e-mail
   * (case-insensitive) belong to no other user, and that every workspace and role exists; then
   * creates or updates the user (only what differs) and replaces their registrations: they end in
   * exactly `registrations`, except in workspaces they own, where what they hold is kept. A refusal
   * writes nothing.
   */
  apply(write: RemoteUserWrite): Promise<RemoteUserSyncOutcome>;
}
