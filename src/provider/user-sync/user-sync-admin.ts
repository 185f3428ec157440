import type { Logger } from 'pino';
import { ProviderInputError, validateIpRestriction } from '../provider-admin.js';
import {
  type ProviderStore,
  type ProviderUser,
  StoreConflictError,
  StoreInvariantError,
} from '../store/repository.js';
import type { SecurityToken, Workspace, WorkspaceRegistration } from '../store/user-sync-repository.js';
import { generateToken, maskToken } from '../token-generator.js';

/** Claroline's two default workspace roles, by their keys. */
export const DEFAULT_WORKSPACE_ROLES: readonly string[] = ['collaborator', 'manager'];

const MIN_SECURITY_TOKEN_LENGTH = 16;
const MAX_TEXT_LENGTH = 255;
const ROLE_KEY = /^[A-Za-z0-9_.-]{1,100}$/;
const CLIENT_NAME = /^[A-Za-z0-9_.@-]{1,100}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

export interface CreateSecurityTokenInput {
  /** The `client` callers send: letters, digits, `_ . @ -`. */
  readonly clientName: string;
  /** The caller's address: an address, a CIDR range or `a.b.c.x-y`. */
  readonly ipAddress: string;
  /** A clear token to register (at least 16 characters), for a client that pins one. @default a new random one */
  readonly token?: string;
}

/** A security token as listed: the clear token is gone. */
export interface SecurityTokenView {
  readonly id: number;
  readonly clientName: string;
  readonly ipAddress: string;
  /** e.g. `••••…a1b2`. */
  readonly masked: string;
  readonly lastUsed: number | null;
  readonly timecreated: number;
}

export interface CreatedSecurityToken {
  /** The clear token, shown this once. */
  readonly token: string;
  readonly view: SecurityTokenView;
}

export interface CreateWorkspaceInput {
  readonly code: string;
  readonly name: string;
  /** The owner's username. @default none */
  readonly owner?: string | null;
  /** @default DEFAULT_WORKSPACE_ROLES */
  readonly roles?: readonly string[];
}

export interface UpdateWorkspaceInput {
  readonly newCode?: string;
  readonly name?: string;
  /** `null` removes the owner. */
  readonly owner?: string | null;
  /** Replaces the roles; registrations under a removed role go. */
  readonly roles?: readonly string[];
}

export interface WorkspaceView extends Workspace {
  /** The owner's username. */
  readonly owner: string | null;
}

export interface RegistrationView {
  readonly workspace: string;
  readonly workspaceId: number;
  readonly username: string;
  readonly userId: number;
  readonly role: string;
  readonly timecreated: number;
}

export interface RegistrationInput {
  readonly username: string;
  /** The workspace's code. */
  readonly workspace: string;
  readonly role: string;
}

export interface UserSyncAdmin {
  createSecurityToken(input: CreateSecurityTokenInput): Promise<CreatedSecurityToken>;
  deleteSecurityToken(clientName: string): Promise<void>;
  listSecurityTokens(): Promise<SecurityTokenView[]>;
  createWorkspace(input: CreateWorkspaceInput): Promise<WorkspaceView>;
  updateWorkspace(code: string, input: UpdateWorkspaceInput): Promise<WorkspaceView>;
  deleteWorkspace(code: string): Promise<void>;
  getWorkspace(code: string): Promise<WorkspaceView | null>;
  listWorkspaces(): Promise<WorkspaceView[]>;
  register(input: RegistrationInput): Promise<RegistrationView>;
  /** Removes one role, or all the user's roles in the workspace when `role` is absent; answers how many went. */
  unregister(input: Omit<RegistrationInput, 'role'> & { readonly role?: string }): Promise<number>;
  listRegistrations(filter?: {
    readonly username?: string;
    readonly workspace?: string;
  }): Promise<RegistrationView[]>;
}

export interface UserSyncAdminOptions {
  readonly store: ProviderStore;
  readonly logger?: Logger;
}

function invalid(field: string, message: string): ProviderInputError {
  return new ProviderInputError(field, message, 'invalid');
}

function checkText(value: string, field: string, what: string): void {
  if (value.length === 0) throw invalid(field, `The ${what} must not be empty`);
  if (value.length > MAX_TEXT_LENGTH)
    throw invalid(field, `The ${what} must be at most ${MAX_TEXT_LENGTH} characters`);
  if (value !== value.trim()) throw invalid(field, `The ${what} must not start or end with spaces`);
  if (CONTROL_CHARS.test(value)) throw invalid(field, `The ${what} must not contain control characters`);
}

function checkRoles(roles: readonly string[], field = 'roles'): string[] {
  if (roles.length === 0) throw invalid(field, 'A workspace needs at least one role');
  roles.forEach((role, index) => {
    if (!ROLE_KEY.test(role)) {
      throw invalid(`${field}[${index}]`, `"${role}" is not a role key (letters, digits, _ . -)`);
    }
  });
  return [...new Set(roles)];
}

function toTokenView(token: SecurityToken): SecurityTokenView {
  return {
    id: token.id,
    clientName: token.clientName,
    ipAddress: token.ipAddress,
    masked: maskToken(token.hint),
    lastUsed: token.lastUsed,
    timecreated: token.timecreated,
  };
}

/** Management of the synchronization endpoint's security tokens, of workspaces and of registrations. */
export function createUserSyncAdmin({ store, logger }: UserSyncAdminOptions): UserSyncAdmin {
  async function requireUser(username: string, field = 'username'): Promise<ProviderUser> {
    const user = await store.users.getByUsername(username);
    if (!user) throw new ProviderInputError(field, `There is no user "${username}"`, 'not-found');
    return user;
  }

  async function requireWorkspace(code: string, field = 'workspace'): Promise<Workspace> {
    const workspace = await store.workspaces.getByCode(code);
    if (!workspace) throw new ProviderInputError(field, `There is no workspace "${code}"`, 'not-found');
    return workspace;
  }

  async function ownerId(owner: string | null | undefined): Promise<number | null | undefined> {
    if (owner === undefined || owner === null) return owner;
    return (await requireUser(owner, 'owner')).id;
  }

  async function toWorkspaceView(workspace: Workspace): Promise<WorkspaceView> {
    const owner = workspace.ownerUserId === null ? null : await store.users.getById(workspace.ownerUserId);
    return { ...workspace, owner: owner?.username ?? null };
  }

  async function toRegistrationViews(registrations: readonly WorkspaceRegistration[]) {
    const users = new Map<number, string>();
    const workspaces = new Map<number, string>();
    const views: RegistrationView[] = [];
    for (const registration of registrations) {
      if (!users.has(registration.userId)) {
        users.set(registration.userId, (await store.users.getById(registration.userId))?.username ?? '');
      }
      if (!workspaces.has(registration.workspaceId)) {
        workspaces.set(
          registration.workspaceId,
          (await store.workspaces.getById(registration.workspaceId))?.code ?? '',
        );
      }
      views.push({
        workspace: workspaces.get(registration.workspaceId) ?? '',
        workspaceId: registration.workspaceId,
        username: users.get(registration.userId) ?? '',
        userId: registration.userId,
        role: registration.role,
        timecreated: registration.timecreated,
      });
    }
    return views;
  }

  function rethrowStoreError(error: unknown, conflictField?: string): never {
    if (error instanceof StoreConflictError) {
      throw new ProviderInputError(conflictField ?? error.field, error.message, 'conflict');
    }
    if (error instanceof StoreInvariantError) throw invalid(error.field, error.message);
    throw error;
  }

  return {
    async createSecurityToken(input) {
      if (!CLIENT_NAME.test(input.clientName)) {
        throw invalid('clientName', 'The client name must be 1 to 100 letters, digits or _ . @ -');
      }
      const [ipAddress] = validateIpRestriction([input.ipAddress], 'ipAddress');
      if (ipAddress === undefined) throw invalid('ipAddress', 'An address is required');
      if (input.token !== undefined) {
        if (input.token.length < MIN_SECURITY_TOKEN_LENGTH || input.token.length > MAX_TEXT_LENGTH) {
          throw invalid(
            'token',
            `A token must be ${MIN_SECURITY_TOKEN_LENGTH} to ${MAX_TEXT_LENGTH} characters`,
          );
        }
        if (/\s/.test(input.token) || CONTROL_CHARS.test(input.token)) {
          throw invalid('token', 'A token must not contain spaces or control characters');
        }
      }
      const token = input.token ?? generateToken();
      try {
        const created = await store.securityTokens.create({ clientName: input.clientName, ipAddress, token });
        logger?.info({ clientName: created.clientName, ipAddress }, 'user-sync security token created');
        return { token, view: toTokenView(created) };
      } catch (error) {
        rethrowStoreError(error);
      }
    },

    async deleteSecurityToken(clientName) {
      const token = await store.securityTokens.getByClientName(clientName);
      if (!token || !(await store.securityTokens.delete(token.id))) {
        throw new ProviderInputError(
          'clientName',
          `There is no security token for "${clientName}"`,
          'not-found',
        );
      }
      logger?.info({ clientName }, 'user-sync security token deleted');
    },

    async listSecurityTokens() {
      return (await store.securityTokens.list()).map(toTokenView);
    },

    async createWorkspace(input) {
      checkText(input.code, 'code', 'workspace code');
      checkText(input.name, 'name', 'workspace name');
      const roles = checkRoles(input.roles ?? DEFAULT_WORKSPACE_ROLES);
      const ownerUserId = await ownerId(input.owner);
      try {
        const workspace = await store.workspaces.create({
          code: input.code,
          name: input.name,
          ownerUserId,
          roles,
        });
        logger?.info({ workspaceId: workspace.id, code: workspace.code }, 'workspace created');
        return toWorkspaceView(workspace);
      } catch (error) {
        rethrowStoreError(error);
      }
    },

    async updateWorkspace(code, input) {
      const workspace = await requireWorkspace(code, 'code');
      if (input.newCode !== undefined) checkText(input.newCode, 'newCode', 'workspace code');
      if (input.name !== undefined) checkText(input.name, 'name', 'workspace name');
      const roles = input.roles === undefined ? undefined : checkRoles(input.roles);
      const ownerUserId = await ownerId(input.owner);
      try {
        const updated = await store.workspaces.update(workspace.id, {
          code: input.newCode,
          name: input.name,
          ownerUserId,
          roles,
        });
        if (!updated) throw new ProviderInputError('code', `There is no workspace "${code}"`, 'not-found');
        return toWorkspaceView(updated);
      } catch (error) {
        rethrowStoreError(error, error instanceof StoreConflictError ? 'newCode' : undefined);
      }
    },

    async deleteWorkspace(code) {
      const workspace = await requireWorkspace(code, 'code');
      await store.workspaces.delete(workspace.id);
      logger?.info({ workspaceId: workspace.id, code }, 'workspace deleted');
    },

    async getWorkspace(code) {
      const workspace = await store.workspaces.getByCode(code);
      return workspace ? toWorkspaceView(workspace) : null;
    },

    async listWorkspaces() {
      return Promise.all((await store.workspaces.list()).map(toWorkspaceView));
    },

    async register(input) {
      const user = await requireUser(input.username);
      const workspace = await requireWorkspace(input.workspace);
      if (!workspace.roles.includes(input.role)) {
        throw invalid('role', `The workspace "${workspace.code}" has no role "${input.role}"`);
      }
      try {
        const registration = await store.registrations.add(workspace.id, user.id, input.role);
        const [view] = await toRegistrationViews([registration]);
        return view as RegistrationView;
      } catch (error) {
        rethrowStoreError(error);
      }
    },

    async unregister(input) {
      const user = await requireUser(input.username);
      const workspace = await requireWorkspace(input.workspace);
      return store.registrations.remove(workspace.id, user.id, input.role);
    },

    async listRegistrations(filter = {}) {
      const userId = filter.username === undefined ? undefined : (await requireUser(filter.username)).id;
      const workspaceId =
        filter.workspace === undefined ? undefined : (await requireWorkspace(filter.workspace)).id;
      return toRegistrationViews(await store.registrations.list({ userId, workspaceId }));
    },
  };
}
