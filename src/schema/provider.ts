import { Readable } from 'node:stream';
import { GraphQLError } from 'graphql';
import type { CleanupResult } from '../provider/cleanup-job.js';
import type {
  PrivateFileTreeFolder,
  ProviderAdmin,
  ProviderUserView,
  TokenView,
} from '../provider/provider-admin.js';
import type { PrivateFile } from '../provider/store/repository.js';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { fromUnixSeconds, manageProvider } from './provider-management.js';

builder.scalarType('File', {
  description: 'A file sent with the GraphQL multipart request specification.',
  serialize: () => {
    throw new GraphQLError('File is an input type only');
  },
});

const ProviderUserRef = builder.objectRef<ProviderUserView>('ProviderUser').implement({
  description: 'A user of the local provider; a web-service account is a user holding capabilities.',
  fields: (t) => ({
    id: t.exposeInt('id'),
    username: t.exposeString('username'),
    firstname: t.exposeString('firstname'),
    lastname: t.exposeString('lastname'),
    email: t.exposeString('email'),
    lang: t.exposeString('lang'),
    suspended: t.exposeBoolean('suspended'),
    hasPassword: t.exposeBoolean('hasPassword'),
    canRetrieveFilesFromOtherUsers: t.boolean({
      resolve: (user) => user.capabilities.canRetrieveFilesFromOtherUsers,
    }),
    canCreateDraftUserFilesForOtherUsers: t.boolean({
      resolve: (user) => user.capabilities.canCreateDraftUserFilesForOtherUsers,
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (user) => fromUnixSeconds(user.timecreated) }),
    modifiedAt: t.field({ type: 'DateTime', resolve: (user) => fromUnixSeconds(user.timemodified) }),
  }),
});

const ProviderFileRef = builder.objectRef<PrivateFile>('ProviderFile').implement({
  description: "A file in a user's private area.",
  fields: (t) => ({
    filepath: t.exposeString('filepath'),
    filename: t.exposeString('filename'),
    size: t.exposeFloat('size', { description: 'Bytes.' }),
    mimetype: t.exposeString('mimetype'),
    contenthash: t.exposeString('contenthash', {
      description: 'SHA-1 of the content, as Moodle names its files.',
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (file) => fromUnixSeconds(file.timecreated) }),
    modifiedAt: t.field({ type: 'DateTime', resolve: (file) => fromUnixSeconds(file.timemodified) }),
  }),
});

const ProviderFolderRef = builder.objectRef<PrivateFileTreeFolder>('ProviderFolder');
ProviderFolderRef.implement({
  description: 'A folder of a private area, with the total size of everything below it.',
  fields: (t) => ({
    name: t.exposeString('name'),
    path: t.exposeString('path'),
    size: t.exposeFloat('size', { description: 'Bytes below this folder.' }),
    folders: t.field({ type: [ProviderFolderRef], resolve: (folder) => [...folder.folders] }),
    files: t.field({ type: [ProviderFileRef], resolve: (folder) => [...folder.files] }),
  }),
});

const WebServiceTokenRef = builder.objectRef<TokenView>('WebServiceToken').implement({
  description: 'A web-service token, masked: the clear token is shown once, when it is created.',
  fields: (t) => ({
    id: t.exposeInt('id'),
    masked: t.exposeString('masked'),
    username: t.exposeString('username'),
    service: t.exposeString('service'),
    ipRestriction: t.exposeStringList('ipRestriction'),
    validUntil: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (token) => (token.validUntil === null ? null : fromUnixSeconds(token.validUntil)),
    }),
    lastAccess: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (token) => (token.lastAccess === null ? null : fromUnixSeconds(token.lastAccess)),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (token) => fromUnixSeconds(token.timecreated) }),
  }),
});

const CreatedTokenRef = builder
  .objectRef<{ token: string; details: TokenView }>('CreatedWebServiceToken')
  .implement({
    fields: (t) => ({
      token: t.exposeString('token', { description: 'The clear token: shown this once, keep it safe.' }),
      details: t.field({ type: WebServiceTokenRef, resolve: (created) => created.details }),
    }),
  });

const CleanupResultRef = builder.objectRef<CleanupResult>('ProviderCleanupResult').implement({
  fields: (t) => ({
    deletedZips: t.exposeInt('deletedZips'),
    skippedZipsUnderRead: t.exposeInt('skippedZipsUnderRead'),
    freedBlobs: t.exposeInt('freedBlobs'),
    freedBytes: t.exposeFloat('freedBytes'),
  }),
});

const CapabilitiesInput = builder.inputType('ProviderCapabilitiesInput', {
  fields: (t) => ({
    canRetrieveFilesFromOtherUsers: t.boolean(),
    canCreateDraftUserFilesForOtherUsers: t.boolean(),
  }),
});

const CreateUserInput = builder.inputType('CreateProviderUserInput', {
  fields: (t) => ({
    username: t.string({ required: true, description: 'Lower case, as Moodle stores usernames.' }),
    firstname: t.string(),
    lastname: t.string(),
    email: t.string(),
    lang: t.string(),
    suspended: t.boolean(),
    password: t.string({ description: 'At least 8 characters; stored hashed (scrypt).' }),
    capabilities: t.field({ type: CapabilitiesInput }),
  }),
});

const UpdateUserInput = builder.inputType('UpdateProviderUserInput', {
  fields: (t) => ({
    newUsername: t.string(),
    firstname: t.string(),
    lastname: t.string(),
    email: t.string(),
    lang: t.string(),
    suspended: t.boolean(),
    password: t.string(),
    removePassword: t.boolean(),
    capabilities: t.field({ type: CapabilitiesInput }),
  }),
});

const CreateTokenInput = builder.inputType('CreateWebServiceTokenInput', {
  fields: (t) => ({
    username: t.string({ required: true, description: 'The web-service account.' }),
    service: t.string({ required: true, description: "The service's shortname." }),
    ipRestriction: t.stringList({ description: 'Addresses or CIDR ranges; empty for any.' }),
    validUntil: t.field({ type: 'DateTime' }),
  }),
});

/** Drops GraphQL's nulls: an absent field and a null one both mean "leave as it is". */
function defined<T extends object>(input: T): { [K in keyof T]?: Exclude<T[K], null> } {
  return Object.fromEntries(
    Object.entries(input).filter(([, value]) => value !== null && value !== undefined),
  ) as never;
}

function manage<T>(context: GraphQLContext, action: (admin: ProviderAdmin) => Promise<T>): Promise<T> {
  return manageProvider(context.providerAdmin, action);
}

builder.queryFields((t) => ({
  providerUsers: t.field({
    type: [ProviderUserRef],
    authScopes: { admin: true },
    resolve: (_root, _args, context) => manage(context, (admin) => admin.listUsers()),
  }),
  providerUser: t.field({
    type: ProviderUserRef,
    nullable: true,
    authScopes: { admin: true },
    args: { username: t.arg.string({ required: true }) },
    resolve: (_root, { username }, context) => manage(context, (admin) => admin.getUser(username)),
  }),
  providerFiles: t.field({
    type: ProviderFolderRef,
    description: "A user's private area as a tree, with sizes.",
    authScopes: { admin: true },
    args: { username: t.arg.string({ required: true }) },
    resolve: (_root, { username }, context) => manage(context, (admin) => admin.listFiles(username)),
  }),
  providerTokens: t.field({
    type: [WebServiceTokenRef],
    authScopes: { admin: true },
    args: { username: t.arg.string(), service: t.arg.string() },
    resolve: (_root, args, context) => manage(context, (admin) => admin.listTokens(defined(args))),
  }),
}));

builder.mutationFields((t) => ({
  createProviderUser: t.field({
    type: ProviderUserRef,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateUserInput, required: true }) },
    resolve: (_root, { input }, context) => {
      const { capabilities, ...rest } = input;
      return manage(context, (admin) =>
        admin.createUser({
          ...defined(rest),
          username: input.username,
          ...(capabilities && { capabilities: defined(capabilities) }),
        }),
      );
    },
  }),
  updateProviderUser: t.field({
    type: ProviderUserRef,
    authScopes: { admin: true },
    args: {
      username: t.arg.string({ required: true }),
      input: t.arg({ type: UpdateUserInput, required: true }),
    },
    resolve: (_root, { username, input }, context) => {
      const { removePassword, capabilities, ...rest } = input;
      return manage(context, (admin) =>
        admin.updateUser(username, {
          ...defined(rest),
          ...(removePassword === true && { password: null }),
          ...(capabilities && { capabilities: defined(capabilities) }),
        }),
      );
    },
  }),
  deleteProviderUser: t.boolean({
    authScopes: { admin: true },
    args: { username: t.arg.string({ required: true }) },
    resolve: (_root, { username }, context) =>
      manage(context, (admin) => admin.deleteUser(username).then(() => true)),
  }),
  uploadPrivateFile: t.field({
    type: ProviderFileRef,
    description: "Stores a file in a user's private area (replacing one at the same path).",
    authScopes: { admin: true },
    args: {
      username: t.arg.string({ required: true }),
      filepath: t.arg.string({ defaultValue: '/', description: 'The folder, e.g. /notes/2024/.' }),
      filename: t.arg.string({ description: "Defaults to the uploaded file's own name." }),
      file: t.arg({ type: 'File', required: true }),
    },
    resolve: (_root, { username, filepath, filename, file }, context) =>
      manage(context, (admin) =>
        admin.uploadPrivateFile({
          username,
          filepath: filepath ?? '/',
          filename: filename ?? file.name,
          // Yoga's File is a ponyfill: its stream is async-iterable but not Node's own ReadableStream.
          content: Readable.from(file.stream() as unknown as AsyncIterable<Uint8Array>),
          ...(file.type !== '' && { mimetype: file.type }),
        }),
      ),
  }),
  deletePrivateFile: t.boolean({
    authScopes: { admin: true },
    args: {
      username: t.arg.string({ required: true }),
      filepath: t.arg.string({ required: true }),
      filename: t.arg.string({ required: true }),
    },
    resolve: (_root, location, context) =>
      manage(context, (admin) => admin.deletePrivateFile(location).then(() => true)),
  }),
  createWebServiceToken: t.field({
    type: CreatedTokenRef,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateTokenInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const created = await manage(context, (admin) =>
        admin.createWebServiceToken({
          username: input.username,
          service: input.service,
          ipRestriction: input.ipRestriction ?? [],
          validUntil: input.validUntil ?? null,
        }),
      );
      return { token: created.token, details: created.view };
    },
  }),
  revokeWebServiceToken: t.boolean({
    authScopes: { admin: true },
    args: { id: t.arg.int({ required: true }) },
    resolve: (_root, { id }, context) => manage(context, (admin) => admin.revokeToken(id).then(() => true)),
  }),
  runProviderCleanup: t.field({
    type: CleanupResultRef,
    description: 'Deletes old generated zips and frees blobs nothing points to, now.',
    authScopes: { admin: true },
    resolve: (_root, _args, context) => manage(context, (admin) => admin.runCleanup()),
  }),
}));
