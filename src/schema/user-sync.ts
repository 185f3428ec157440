import { GraphQLError } from 'graphql';
import type { RegisteredSite } from '../gateway/site-registry.js';
import type { SyncUserRequest, UserSynced } from '../gateway/user-sync.js';
import type {
  RegistrationView,
  SecurityTokenView,
  UserSyncAdmin,
  WorkspaceView,
} from '../provider/user-sync/user-sync-admin.js';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { badUserInput, notFound } from './errors.js';
import { fromUnixSeconds, manageProvider } from './provider-management.js';
import { SiteFailureRef, siteFailureValue } from './site-failure.js';

/*
 * User provisioning: `syncUser` pushes one person to many sites at once; the local provider's side
 * of it (security tokens of its remote-user-synchronization endpoint, workspaces, registrations) is
 * managed here too.
 */

interface UserSyncedValue extends UserSynced {
  readonly site: string;
}

const UserSyncedRef = builder.objectRef<UserSyncedValue>('UserSynced').implement({
  description: 'The user as one site now holds them.',
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'userId' in value && 'created' in value,
  fields: (t) => ({
    site: t.exposeID('site'),
    userId: t.exposeInt('userId', { description: "The user's id on that site." }),
    created: t.exposeBoolean('created', { description: 'Whether this synchronization created the user.' }),
    changed: t.exposeBoolean('changed', {
      description:
        'Whether anything was written. False when the site already held exactly this user and these registrations: running the same synchronization again changes nothing.',
    }),
  }),
});

const SiteSyncResult = builder.unionType('SiteSyncResult', {
  description: "One site's outcome of a synchronization: each site succeeds or fails on its own.",
  types: [UserSyncedRef, SiteFailureRef],
});

const SyncUserWorkspaceInput = builder.inputType('SyncUserWorkspaceInput', {
  description: 'A registration: a workspace with a role.',
  fields: (t) => ({
    workspace: t.string({
      required: true,
      description: "A workspace's code on a provider; a course's short name on a Moodle.",
    }),
    role: t.string({
      required: true,
      description:
        "A role key on a provider (collaborator, manager, …); on a Moodle, a role name of the site's roles mapping.",
    }),
  }),
});

const SyncUserInput = builder.inputType('SyncUserInput', {
  fields: (t) => ({
    username: t.string({
      required: true,
      description: 'Sent exactly as given; platforms want it lower case.',
    }),
    firstName: t.string({ required: true }),
    lastName: t.string({ required: true }),
    email: t.string({ required: true }),
    password: t.string({
      required: true,
      description: 'Travels only to the platforms: never logged, never answered.',
    }),
    workspaces: t.field({
      type: [SyncUserWorkspaceInput],
      description:
        'Where the user ends registered, and nowhere else: absent or empty unregisters them from everything (on a provider, workspaces they own keep them).',
    }),
    updatePassword: t.boolean({
      defaultValue: false,
      description:
        "Whether an existing Moodle user's password is overwritten. Moodle cannot tell whether a password differs, so it is otherwise set only when the user is created; a provider compares it itself and changes it only when it differs.",
    }),
  }),
});

const MAX_TEXT = 100;
const MAX_WORKSPACES = 1000;

function checkText(field: string, value: string, { trimmed = false } = {}): void {
  if (value.trim() === '') throw badUserInput(field, 'must not be empty');
  if (value.length > MAX_TEXT) throw badUserInput(field, `must be at most ${MAX_TEXT} characters`);
  if (/\p{Cc}/u.test(value)) throw badUserInput(field, 'must not contain control characters');
  if (trimmed && value !== value.trim()) throw badUserInput(field, 'must not start or end with spaces');
}

/** Caller mistakes are refused before any site is asked; what a site refuses is that site's failure. */
function checkRequest(input: {
  readonly username: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly password: string;
  readonly workspaces?: readonly { readonly workspace: string; readonly role: string }[] | null;
  readonly updatePassword?: boolean | null;
}): SyncUserRequest {
  // The username is checked, never trimmed or lower-cased: platforms match it exactly.
  if (input.username.length === 0) throw badUserInput('input.username', 'must not be empty');
  if (input.username.length > MAX_TEXT)
    throw badUserInput('input.username', `must be at most ${MAX_TEXT} characters`);
  if (/\p{Cc}/u.test(input.username))
    throw badUserInput('input.username', 'must not contain control characters');
  checkText('input.firstName', input.firstName);
  checkText('input.lastName', input.lastName);
  checkText('input.email', input.email, { trimmed: true });
  if (!/^[^\s@]+@[^\s@]+$/.test(input.email)) throw badUserInput('input.email', 'is not an e-mail address');
  // Never quoted back: a message naming the password would put it in a response.
  if (input.password.length === 0) throw badUserInput('input.password', 'must not be empty');
  if (input.password.length > 1024) throw badUserInput('input.password', 'must be at most 1024 characters');
  const workspaces = input.workspaces ?? [];
  if (workspaces.length > MAX_WORKSPACES) {
    throw badUserInput('input.workspaces', `must hold at most ${MAX_WORKSPACES} entries`);
  }
  workspaces.forEach(({ workspace, role }, index) => {
    checkText(`input.workspaces[${index}].workspace`, workspace, { trimmed: true });
    checkText(`input.workspaces[${index}].role`, role, { trimmed: true });
  });
  return {
    username: input.username,
    firstName: input.firstName,
    lastName: input.lastName,
    email: input.email,
    password: input.password,
    workspaces: workspaces.map(({ workspace, role }) => ({ workspace, role })),
    updatePassword: input.updatePassword ?? false,
  };
}

function chosenSites(context: GraphQLContext, ids: readonly string[] | null | undefined): RegisteredSite[] {
  if (ids === null || ids === undefined) return context.registry.list(context.tenant);
  return [...new Set(ids)].map((id) => {
    const entry = context.registry.get(context.tenant, id);
    if (!entry) throw notFound('sites', `no site "${id}"`);
    if (!entry.enabled) throw notFound('sites', `the site "${id}" is disabled`);
    return entry;
  });
}

builder.mutationFields((t) => ({
  syncUser: t.field({
    type: [SiteSyncResult],
    description:
      'Creates or updates one user on the chosen sites (default: every enabled site) at once, with their registrations; one result per site, in the order of the sites.',
    authScopes: { syncUsers: true },
    args: {
      input: t.arg({ type: SyncUserInput, required: true }),
      sites: t.arg.idList({ description: 'Site ids; absent means every enabled site.' }),
    },
    resolve: async (_root, { input, sites }, context) => {
      const request = checkRequest(input);
      if (!context.userSync) {
        throw new GraphQLError('user synchronization is not set up on this gateway', {
          extensions: { code: 'USER_SYNC_DISABLED' },
        });
      }
      const outcomes = await context.userSync.syncUser({
        entries: chosenSites(context, sites),
        request,
        siteInfo: (entry) => context.loaders.siteInfo.load(entry),
        logger: context.logger,
      });
      return outcomes.map(({ entry, result }) =>
        result.ok ? { site: entry.id, ...result.value } : siteFailureValue(entry, result.failure),
      );
    },
  }),
}));

// --- The local provider's side: security tokens, workspaces, registrations (admin only). ---

const SecurityTokenRef = builder.objectRef<SecurityTokenView>('UserSyncSecurityToken').implement({
  description:
    "Who may call the provider's remote-user-synchronization endpoint: client name, token and caller address must all match. The token is masked: it is shown once, when created.",
  fields: (t) => ({
    id: t.exposeInt('id'),
    clientName: t.exposeString('clientName'),
    ipAddress: t.exposeString('ipAddress', { description: 'An address, a CIDR range or a.b.c.x-y.' }),
    masked: t.exposeString('masked'),
    lastUsedAt: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (token) => (token.lastUsed === null ? null : fromUnixSeconds(token.lastUsed)),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (token) => fromUnixSeconds(token.timecreated) }),
  }),
});

const CreatedSecurityTokenRef = builder
  .objectRef<{ token: string; details: SecurityTokenView }>('CreatedUserSyncSecurityToken')
  .implement({
    fields: (t) => ({
      token: t.exposeString('token', { description: 'The clear token: shown this once, keep it safe.' }),
      details: t.field({ type: SecurityTokenRef, resolve: (created) => created.details }),
    }),
  });

const RegistrationRef = builder.objectRef<RegistrationView>('ProviderWorkspaceRegistration').implement({
  description: 'A user holding a role in a workspace of the local provider.',
  fields: (t) => ({
    workspace: t.exposeString('workspace', { description: "The workspace's code." }),
    username: t.exposeString('username'),
    role: t.exposeString('role'),
    createdAt: t.field({
      type: 'DateTime',
      resolve: (registration) => fromUnixSeconds(registration.timecreated),
    }),
  }),
});

const WorkspaceRef = builder.objectRef<WorkspaceView>('ProviderWorkspace').implement({
  description: 'A workspace of the local provider: what remote user synchronization registers users in.',
  fields: (t) => ({
    id: t.exposeInt('id'),
    code: t.exposeString('code'),
    name: t.exposeString('name'),
    owner: t.exposeString('owner', {
      nullable: true,
      description: "The owner's username: a synchronization never unregisters the owner.",
    }),
    roles: t.exposeStringList('roles', { description: 'The role keys a user may hold in it.' }),
    registrations: t.field({
      type: [RegistrationRef],
      resolve: (workspace, _args, context) =>
        manage(context, (admin) => admin.listRegistrations({ workspace: workspace.code })),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (workspace) => fromUnixSeconds(workspace.timecreated) }),
    modifiedAt: t.field({
      type: 'DateTime',
      resolve: (workspace) => fromUnixSeconds(workspace.timemodified),
    }),
  }),
});

const CreateSecurityTokenInput = builder.inputType('CreateUserSyncSecurityTokenInput', {
  fields: (t) => ({
    clientName: t.string({ required: true, description: 'What callers send as `client`.' }),
    ipAddress: t.string({
      required: true,
      description: 'The address calls come from: an address, a CIDR range or a.b.c.x-y.',
    }),
    token: t.string({
      description: 'A token to register (at least 16 characters); a random one when absent.',
    }),
  }),
});

const CreateWorkspaceInput = builder.inputType('CreateProviderWorkspaceInput', {
  fields: (t) => ({
    code: t.string({ required: true }),
    name: t.string({ required: true }),
    owner: t.string({ description: "The owner's username." }),
    roles: t.stringList({ description: 'Role keys; collaborator and manager when absent.' }),
  }),
});

const UpdateWorkspaceInput = builder.inputType('UpdateProviderWorkspaceInput', {
  fields: (t) => ({
    newCode: t.string(),
    name: t.string(),
    owner: t.string({ description: "The new owner's username." }),
    removeOwner: t.boolean({ description: 'Leaves the workspace without an owner.' }),
    roles: t.stringList({ description: 'Replace the role keys; registrations under a removed role go.' }),
  }),
});

function manage<T>(context: GraphQLContext, action: (admin: UserSyncAdmin) => Promise<T>): Promise<T> {
  return manageProvider(context.userSyncAdmin ?? null, action);
}

builder.queryFields((t) => ({
  userSyncSecurityTokens: t.field({
    type: [SecurityTokenRef],
    authScopes: { admin: true },
    resolve: (_root, _args, context) => manage(context, (admin) => admin.listSecurityTokens()),
  }),
  providerWorkspaces: t.field({
    type: [WorkspaceRef],
    authScopes: { admin: true },
    resolve: (_root, _args, context) => manage(context, (admin) => admin.listWorkspaces()),
  }),
  providerWorkspace: t.field({
    type: WorkspaceRef,
    nullable: true,
    authScopes: { admin: true },
    args: { code: t.arg.string({ required: true }) },
    resolve: (_root, { code }, context) => manage(context, (admin) => admin.getWorkspace(code)),
  }),
  providerWorkspaceRegistrations: t.field({
    type: [RegistrationRef],
    description: 'Registrations, of one user or in one workspace or both.',
    authScopes: { admin: true },
    args: { username: t.arg.string(), workspace: t.arg.string() },
    resolve: (_root, { username, workspace }, context) =>
      manage(context, (admin) =>
        admin.listRegistrations({
          ...(username != null && { username }),
          ...(workspace != null && { workspace }),
        }),
      ),
  }),
}));

builder.mutationFields((t) => ({
  createUserSyncSecurityToken: t.field({
    type: CreatedSecurityTokenRef,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateSecurityTokenInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const created = await manage(context, (admin) =>
        admin.createSecurityToken({
          clientName: input.clientName,
          ipAddress: input.ipAddress,
          ...(input.token != null && { token: input.token }),
        }),
      );
      return { token: created.token, details: created.view };
    },
  }),
  deleteUserSyncSecurityToken: t.boolean({
    authScopes: { admin: true },
    args: { clientName: t.arg.string({ required: true }) },
    resolve: (_root, { clientName }, context) =>
      manage(context, (admin) => admin.deleteSecurityToken(clientName).then(() => true)),
  }),
  createProviderWorkspace: t.field({
    type: WorkspaceRef,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateWorkspaceInput, required: true }) },
    resolve: (_root, { input }, context) =>
      manage(context, (admin) =>
        admin.createWorkspace({
          code: input.code,
          name: input.name,
          ...(input.owner != null && { owner: input.owner }),
          ...(input.roles != null && { roles: input.roles }),
        }),
      ),
  }),
  updateProviderWorkspace: t.field({
    type: WorkspaceRef,
    authScopes: { admin: true },
    args: {
      code: t.arg.string({ required: true }),
      input: t.arg({ type: UpdateWorkspaceInput, required: true }),
    },
    resolve: (_root, { code, input }, context) => {
      if (input.removeOwner === true && input.owner != null) {
        throw badUserInput('input.owner', 'give an owner or removeOwner, not both');
      }
      return manage(context, (admin) =>
        admin.updateWorkspace(code, {
          ...(input.newCode != null && { newCode: input.newCode }),
          ...(input.name != null && { name: input.name }),
          ...(input.owner != null && { owner: input.owner }),
          ...(input.removeOwner === true && { owner: null }),
          ...(input.roles != null && { roles: input.roles }),
        }),
      );
    },
  }),
  deleteProviderWorkspace: t.boolean({
    description: 'Deletes the workspace with its registrations.',
    authScopes: { admin: true },
    args: { code: t.arg.string({ required: true }) },
    resolve: (_root, { code }, context) =>
      manage(context, (admin) => admin.deleteWorkspace(code).then(() => true)),
  }),
  registerProviderWorkspaceUser: t.field({
    type: RegistrationRef,
    authScopes: { admin: true },
    args: {
      username: t.arg.string({ required: true }),
      workspace: t.arg.string({ required: true, description: "The workspace's code." }),
      role: t.arg.string({ required: true }),
    },
    resolve: (_root, args, context) => manage(context, (admin) => admin.register(args)),
  }),
  unregisterProviderWorkspaceUser: t.int({
    description: 'Removes one role, or every role of the user in the workspace; answers how many went.',
    authScopes: { admin: true },
    args: {
      username: t.arg.string({ required: true }),
      workspace: t.arg.string({ required: true, description: "The workspace's code." }),
      role: t.arg.string(),
    },
    resolve: (_root, { username, workspace, role }, context) =>
      manage(context, (admin) => admin.unregister({ username, workspace, ...(role != null && { role }) })),
  }),
}));
