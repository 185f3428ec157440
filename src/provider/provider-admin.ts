import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import mime from 'mime-types';
import type { Logger } from 'pino';
import { type CleanupResult, runProviderCleanup } from './cleanup-job.js';
import { hashPassword } from './password.js';
import { BlobTooLargeError } from './store/blob-store.js';
import {
  type PrivateFile,
  type ProviderService,
  type ProviderStore,
  type ProviderUser,
  StoreConflictError,
  StoreInvariantError,
  type UserCapabilities,
  type WebServiceToken,
} from './store/repository.js';
import { generateToken, isTokenFormat, maskToken } from './token-generator.js';

/** Why an input was refused; `field` names the offending argument, as the GraphQL error will. */
export type ProviderInputReason = 'invalid' | 'not-found' | 'conflict' | 'too-large';

/** A caller's mistake, safe to show: the GraphQL layer turns it into an error naming `field`. */
export class ProviderInputError extends Error {
  override readonly name = 'ProviderInputError';
  readonly code = 'BAD_USER_INPUT';
  constructor(
    readonly field: string,
    message: string,
    readonly reason: ProviderInputReason = 'invalid',
  ) {
    super(message);
  }
}

export interface ProviderAdminLimits {
  /** Largest private file accepted. @default 67_108_864 (64 MiB, Moodle's `usermaxuploadfilesize` above) */
  readonly maxUploadBytes?: number;
  /** Largest private area per user. @default 104_857_600 (100 MiB, Moodle's default `userquota`) */
  readonly userQuotaBytes?: number;
}

export interface ProviderAdminOptions {
  readonly store: ProviderStore;
  readonly limits?: ProviderAdminLimits;
  /** Used by `runCleanup`. @default 86_400_000 (24 h) */
  readonly zipMaxAgeMs?: number;
  /** Used by `runCleanup`. @default 3_600_000 (1 h) */
  readonly orphanGraceMs?: number;
  readonly logger?: Logger;
}

/** A user as management shows it: never the password hash. */
export type ProviderUserView = Omit<ProviderUser, 'passwordHash'> & { readonly hasPassword: boolean };

export interface CreateUserInput {
  readonly username: string;
  readonly firstname?: string;
  readonly lastname?: string;
  readonly email?: string;
  /** @default 'en' */
  readonly lang?: string;
  /** @default false */
  readonly suspended?: boolean;
  /** At least 8 characters; hashed with scrypt. @default none (cannot log in) */
  readonly password?: string;
  readonly capabilities?: Partial<UserCapabilities>;
}

export type UpdateUserInput = Partial<Omit<CreateUserInput, 'username' | 'password'>> & {
  /** Renames the user. */
  readonly newUsername?: string;
  /** `null` removes the password. */
  readonly password?: string | null;
};

export interface UploadPrivateFileInput {
  readonly username: string;
  /** Folder, e.g. `/notes/2024/`, `notes/2024` or `/`; normalised to `/a/b/`. @default '/' */
  readonly filepath?: string;
  readonly filename: string;
  /** Consumed (or destroyed, when the input is refused before reading). */
  readonly content: Readable;
  /** @default from the file name's extension, else `application/octet-stream` */
  readonly mimetype?: string;
}

export interface PrivateFileLocation {
  readonly username: string;
  readonly filepath: string;
  readonly filename: string;
}

export interface PrivateFileTreeFolder {
  /** Folder name; `''` for the root. */
  readonly name: string;
  /** `/` or `/notes/2024/`. */
  readonly path: string;
  /** Total bytes below this folder. */
  readonly size: number;
  readonly folders: readonly PrivateFileTreeFolder[];
  readonly files: readonly PrivateFile[];
}

export interface CreateServiceInput {
  readonly shortname: string;
  readonly name: string;
  readonly functions?: readonly string[];
  /** @default false */
  readonly downloadFiles?: boolean;
  /** @default false */
  readonly uploadFiles?: boolean;
  /** @default true */
  readonly restrictedUsers?: boolean;
  /** @default [] */
  readonly authorisedUsernames?: readonly string[];
  /** @default true */
  readonly enabled?: boolean;
}

export interface CreateTokenInput {
  readonly username: string;
  /** The service's shortname. */
  readonly service: string;
  /** Addresses, CIDR ranges or Moodle's `a.b.c.x-y`; empty for any address. @default [] */
  readonly ipRestriction?: readonly string[];
  /** Expiry, a `Date` or Unix seconds, in the future; `null` for never. @default null */
  readonly validUntil?: Date | number | null;
  /** A clear token to register (32 lower-case hex), for deployments that pin one. @default a new random one */
  readonly token?: string;
}

/** A token as listed: the clear token is gone, only a masked form remains. */
export interface TokenView {
  readonly id: number;
  /** e.g. `••••…a1b2`. */
  readonly masked: string;
  readonly username: string;
  readonly userId: number;
  readonly service: string;
  readonly serviceId: number;
  readonly ipRestriction: readonly string[];
  readonly validUntil: number | null;
  readonly lastAccess: number | null;
  readonly timecreated: number;
}

export interface CreatedToken {
  /** The clear token (32 lower-case hex). Shown this once; only its hash is stored. */
  readonly token: string;
  readonly view: TokenView;
}

export interface ProviderAdmin {
  createUser(input: CreateUserInput): Promise<ProviderUserView>;
  updateUser(username: string, input: UpdateUserInput): Promise<ProviderUserView>;
  /** Deletes the user, their files, tokens and zips; freed blobs go at the next cleanup. */
  deleteUser(username: string): Promise<void>;
  getUser(username: string): Promise<ProviderUserView | null>;
  listUsers(): Promise<ProviderUserView[]>;
  uploadPrivateFile(input: UploadPrivateFileInput): Promise<PrivateFile>;
  deletePrivateFile(location: PrivateFileLocation): Promise<void>;
  listFiles(username: string): Promise<PrivateFileTreeFolder>;
  createService(input: CreateServiceInput): Promise<ProviderService>;
  /** Lists given (`functions`, `authorisedUsernames`) replace the current ones. */
  updateService(shortname: string, input: Partial<CreateServiceInput>): Promise<ProviderService>;
  getService(shortname: string): Promise<ProviderService | null>;
  listServices(): Promise<ProviderService[]>;
  createWebServiceToken(input: CreateTokenInput): Promise<CreatedToken>;
  revokeToken(id: number): Promise<void>;
  listTokens(filter?: { readonly username?: string; readonly service?: string }): Promise<TokenView[]>;
  runCleanup(): Promise<CleanupResult>;
}

const MAX_FILEPATH_LENGTH = 1024;
const MAX_FILENAME_LENGTH = 255;
const MAX_USERNAME_LENGTH = 100;
const MIN_PASSWORD_LENGTH = 8;
// Moodle's username rule with "extended characters" off.
const USERNAME_CHARS = /^[a-z0-9_.@-]+$/;
// Characters Moodle's PARAM_FILE strips from file and folder names; we refuse them instead.
const FORBIDDEN_NAME_CHARS = /[&<>"`|':\\/]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
const LANG = /^[a-z]{2,3}(?:_[a-z0-9]+)*$/;
const FUNCTION_NAME = /^[a-z][a-z0-9_]*$/;

function invalid(field: string, message: string): ProviderInputError {
  return new ProviderInputError(field, message, 'invalid');
}

/** Moodle's username rule: lower case, trimmed, `[a-z0-9_.@-]`. */
export function validateUsername(username: string, field = 'username'): string {
  if (username.length === 0) throw invalid(field, 'The username must not be empty');
  if (username !== username.trim()) throw invalid(field, 'The username must not start or end with spaces');
  if (username !== username.toLowerCase()) throw invalid(field, 'The username must be lower case');
  if (username.length > MAX_USERNAME_LENGTH) {
    throw invalid(field, `The username must be at most ${MAX_USERNAME_LENGTH} characters`);
  }
  if (!USERNAME_CHARS.test(username)) {
    throw invalid(field, 'The username may only hold a-z, 0-9, and the characters _ . @ -');
  }
  return username;
}

function validateName(name: string, field: string, what: string): void {
  if (name.includes('\0')) throw invalid(field, `The ${what} must not contain a NUL character`);
  if (CONTROL_CHARS.test(name)) throw invalid(field, `The ${what} must not contain control characters`);
  if (name === '.' || name === '..') throw invalid(field, `The ${what} must not be "${name}"`);
  if (name !== name.trim()) throw invalid(field, `The ${what} must not start or end with spaces`);
  if (FORBIDDEN_NAME_CHARS.test(name)) {
    throw invalid(field, `The ${what} must not contain any of & < > " \` | ' : \\ /`);
  }
}

/** `notes/2024`, `/notes/2024/` → `/notes/2024/`; refuses `..`, drive letters, backslashes, NUL. */
export function normaliseFilepath(filepath: string, field = 'filepath'): string {
  if (filepath.length > MAX_FILEPATH_LENGTH) {
    throw invalid(field, `The folder path must be at most ${MAX_FILEPATH_LENGTH} characters`);
  }
  if (filepath.includes('\0')) throw invalid(field, 'The folder path must not contain a NUL character');
  if (filepath.includes('\\')) throw invalid(field, 'The folder path must use / as separator, not \\');
  if (/^[A-Za-z]:/.test(filepath)) throw invalid(field, 'The folder path must not name a drive');
  const inner = filepath.replace(/^\//, '').replace(/\/$/, '');
  if (inner === '') return '/';
  const segments = inner.split('/');
  for (const segment of segments) {
    if (segment === '') throw invalid(field, 'The folder path must not contain empty folder names (//)');
    if (segment === '..') throw invalid(field, 'The folder path must not contain ".." segments');
    validateName(segment, field, 'folder path');
    if (segment.length > MAX_FILENAME_LENGTH) {
      throw invalid(field, `Each folder name must be at most ${MAX_FILENAME_LENGTH} characters`);
    }
  }
  const normalised = `/${segments.join('/')}/`;
  if (normalised.length > MAX_FILEPATH_LENGTH) {
    throw invalid(field, `The folder path must be at most ${MAX_FILEPATH_LENGTH} characters`);
  }
  return normalised;
}

export function validateFilename(filename: string, field = 'filename'): string {
  if (filename.length === 0) throw invalid(field, 'The file name must not be empty');
  if (filename.length > MAX_FILENAME_LENGTH) {
    throw invalid(field, `The file name must be at most ${MAX_FILENAME_LENGTH} characters`);
  }
  if (filename.startsWith('/') || /^[A-Za-z]:/.test(filename)) {
    throw invalid(field, 'The file name must be a plain name, not an absolute path');
  }
  if (filename.split(/[\\/]/).includes('..')) throw invalid(field, 'The file name must not contain ".."');
  validateName(filename, field, 'file name');
  return filename;
}

/** Accepts what the token check matches: an address, a CIDR range, or Moodle's `a.b.c.x-y`. */
export function validateIpRestriction(entries: readonly string[], field = 'ipRestriction'): string[] {
  return entries.map((raw, index) => {
    const entry = raw.trim();
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr) {
      const version = isIP(cidr[1] ?? '');
      if (version !== 0 && Number(cidr[2]) <= (version === 4 ? 32 : 128)) return entry;
    } else if (isIP(entry) !== 0) {
      return entry;
    } else {
      const range = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.)(\d{1,3})-(\d{1,3})$/.exec(entry);
      if (range && isIP(`${range[1]}${range[2]}`) === 4 && isIP(`${range[1]}${range[3]}`) === 4) {
        if (Number(range[2]) <= Number(range[3])) return entry;
      }
    }
    throw invalid(
      `${field}[${index}]`,
      `"${raw}" is not an IP address, a CIDR range (10.0.0.0/8) or a range (192.168.1.1-20)`,
    );
  });
}

function toView(user: ProviderUser): ProviderUserView {
  const { passwordHash, ...rest } = user;
  return { ...rest, hasPassword: passwordHash !== null };
}

function capabilityPatch(
  input: Partial<UserCapabilities> | undefined,
): Partial<UserCapabilities> | undefined {
  if (!input) return undefined;
  const patch: { -readonly [K in keyof UserCapabilities]?: boolean } = {};
  if (input.canRetrieveFilesFromOtherUsers !== undefined) {
    patch.canRetrieveFilesFromOtherUsers = input.canRetrieveFilesFromOtherUsers;
  }
  if (input.canCreateDraftUserFilesForOtherUsers !== undefined) {
    patch.canCreateDraftUserFilesForOtherUsers = input.canCreateDraftUserFilesForOtherUsers;
  }
  return patch;
}

function buildTree(files: readonly PrivateFile[]): PrivateFileTreeFolder {
  interface Node {
    name: string;
    path: string;
    size: number;
    folders: Map<string, Node>;
    files: PrivateFile[];
  }
  const root: Node = { name: '', path: '/', size: 0, folders: new Map(), files: [] };
  for (const file of files) {
    let node = root;
    node.size += file.size;
    for (const segment of file.filepath.split('/').filter(Boolean)) {
      let child = node.folders.get(segment);
      if (!child) {
        child = { name: segment, path: `${node.path}${segment}/`, size: 0, folders: new Map(), files: [] };
        node.folders.set(segment, child);
      }
      node = child;
      node.size += file.size;
    }
    node.files.push(file);
  }
  const freeze = (node: Node): PrivateFileTreeFolder => ({
    name: node.name,
    path: node.path,
    size: node.size,
    folders: [...node.folders.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(freeze),
    files: node.files,
  });
  return freeze(root);
}

/** Management of the local provider: what the GraphQL mutations and the CLI call. */
export function createProviderAdmin(options: ProviderAdminOptions): ProviderAdmin {
  const { store, limits = {}, zipMaxAgeMs, orphanGraceMs, logger } = options;
  const { maxUploadBytes = 67_108_864, userQuotaBytes = 104_857_600 } = limits;

  async function requireUser(username: string, field = 'username'): Promise<ProviderUser> {
    const user = await store.users.getByUsername(username);
    if (!user) throw new ProviderInputError(field, `There is no user "${username}"`, 'not-found');
    return user;
  }

  async function requireService(shortname: string, field = 'service'): Promise<ProviderService> {
    const service = await store.services.getByShortname(shortname);
    if (!service) throw new ProviderInputError(field, `There is no service "${shortname}"`, 'not-found');
    return service;
  }

  function validateProfile(input: Pick<CreateUserInput, 'email' | 'lang' | 'firstname' | 'lastname'>): void {
    if (input.email !== undefined && input.email !== '' && !EMAIL.test(input.email)) {
      throw invalid('email', `"${input.email}" is not an e-mail address`);
    }
    if (input.lang !== undefined && !LANG.test(input.lang)) {
      throw invalid('lang', `"${input.lang}" is not a language code such as en or pt_br`);
    }
    for (const field of ['firstname', 'lastname'] as const) {
      const value = input[field];
      if (value !== undefined && (value.length > 100 || CONTROL_CHARS.test(value))) {
        throw invalid(field, `The ${field} must be at most 100 characters, without control characters`);
      }
    }
  }

  async function passwordHashOf(password: string): Promise<string> {
    if (password.length < MIN_PASSWORD_LENGTH) {
      throw invalid('password', `The password must be at least ${MIN_PASSWORD_LENGTH} characters long`);
    }
    return hashPassword(password);
  }

  function rethrowStoreError(error: unknown): never {
    if (error instanceof StoreConflictError)
      throw new ProviderInputError(error.field, error.message, 'conflict');
    if (error instanceof StoreInvariantError) throw invalid(error.field, error.message);
    throw error;
  }

  async function validateService(input: Partial<CreateServiceInput>) {
    if (input.shortname !== undefined && !/^[A-Za-z0-9_-]+$/.test(input.shortname)) {
      throw invalid('shortname', 'The shortname must be non-empty and hold only letters, digits, _ and -');
    }
    if (input.name !== undefined && input.name.trim().length === 0) {
      throw invalid('name', 'The service name must not be empty');
    }
    input.functions?.forEach((name, index) => {
      if (!FUNCTION_NAME.test(name)) throw invalid(`functions[${index}]`, `"${name}" is not a function name`);
    });
    let authorisedUserIds: number[] | undefined;
    if (input.authorisedUsernames) {
      authorisedUserIds = [];
      for (const [index, username] of input.authorisedUsernames.entries()) {
        authorisedUserIds.push((await requireUser(username, `authorisedUsernames[${index}]`)).id);
      }
    }
    return {
      functions: input.functions,
      downloadFiles: input.downloadFiles,
      uploadFiles: input.uploadFiles,
      restrictedUsers: input.restrictedUsers,
      authorisedUserIds,
      enabled: input.enabled,
    };
  }

  async function toTokenView(token: WebServiceToken): Promise<TokenView> {
    const [user, service] = await Promise.all([
      store.users.getById(token.userId),
      store.services.getById(token.serviceId),
    ]);
    return {
      id: token.id,
      masked: maskToken(token.hint),
      username: user?.username ?? '',
      userId: token.userId,
      service: service?.shortname ?? '',
      serviceId: token.serviceId,
      ipRestriction: token.ipRestriction,
      validUntil: token.validUntil,
      lastAccess: token.lastAccess,
      timecreated: token.timecreated,
    };
  }

  return {
    async createUser(input) {
      validateUsername(input.username);
      validateProfile(input);
      const passwordHash = input.password === undefined ? null : await passwordHashOf(input.password);
      try {
        const user = await store.users.create({
          username: input.username,
          firstname: input.firstname,
          lastname: input.lastname,
          email: input.email,
          lang: input.lang,
          suspended: input.suspended,
          passwordHash,
          capabilities: {
            canRetrieveFilesFromOtherUsers: input.capabilities?.canRetrieveFilesFromOtherUsers ?? false,
            canCreateDraftUserFilesForOtherUsers:
              input.capabilities?.canCreateDraftUserFilesForOtherUsers ?? false,
          },
        });
        logger?.info({ userId: user.id, username: user.username }, 'provider user created');
        return toView(user);
      } catch (error) {
        rethrowStoreError(error);
      }
    },

    async updateUser(username, input) {
      const user = await requireUser(username);
      if (input.newUsername !== undefined) validateUsername(input.newUsername, 'newUsername');
      validateProfile(input);
      let passwordHash: string | null | undefined;
      if (input.password === null) passwordHash = null;
      else if (input.password !== undefined) passwordHash = await passwordHashOf(input.password);
      try {
        const updated = await store.users.update(user.id, {
          username: input.newUsername,
          firstname: input.firstname,
          lastname: input.lastname,
          email: input.email,
          lang: input.lang,
          suspended: input.suspended,
          passwordHash,
          capabilities: capabilityPatch(input.capabilities),
        });
        if (!updated) throw new ProviderInputError('username', `There is no user "${username}"`, 'not-found');
        return toView(updated);
      } catch (error) {
        if (error instanceof StoreConflictError) {
          throw new ProviderInputError('newUsername', error.message, 'conflict');
        }
        rethrowStoreError(error);
      }
    },

    async deleteUser(username) {
      const user = await requireUser(username);
      await store.users.delete(user.id);
      logger?.info({ userId: user.id, username }, 'provider user deleted');
    },

    async getUser(username) {
      const user = await store.users.getByUsername(username);
      return user ? toView(user) : null;
    },

    async listUsers() {
      return (await store.users.list()).map(toView);
    },

    async uploadPrivateFile(input) {
      const { content } = input;
      let user: ProviderUser;
      let filepath: string;
      try {
        filepath = normaliseFilepath(input.filepath ?? '/');
        validateFilename(input.filename);
        user = await requireUser(input.username);
      } catch (error) {
        content.destroy();
        throw error;
      }
      const existing = await store.files.get(user.id, filepath, input.filename);
      const used = (await store.files.totalSize(user.id)) - (existing?.size ?? 0);
      const room = userQuotaBytes - used;
      if (room <= 0) {
        content.destroy();
        throw new ProviderInputError('file', `The private area of "${user.username}" is full`, 'too-large');
      }
      const maxBytes = Math.min(maxUploadBytes, room);
      let blob: { contenthash: string; size: number };
      try {
        blob = await store.blobs.writeStream(content, { maxBytes });
      } catch (error) {
        if (!(error instanceof BlobTooLargeError)) throw error;
        const message =
          maxBytes === maxUploadBytes
            ? `The file is larger than the limit of ${maxUploadBytes} bytes`
            : `The file does not fit in the private area of "${user.username}" (quota ${userQuotaBytes} bytes)`;
        throw new ProviderInputError('file', message, 'too-large');
      }
      const mimetype = input.mimetype ?? (mime.lookup(input.filename) || 'application/octet-stream');
      try {
        const file = await store.files.put({
          userId: user.id,
          filepath,
          filename: input.filename,
          size: blob.size,
          mimetype,
          contenthash: blob.contenthash,
        });
        logger?.info(
          { userId: user.id, filepath, filename: file.filename, size: file.size },
          'private file stored',
        );
        return file;
      } catch (error) {
        rethrowStoreError(error);
      }
    },

    async deletePrivateFile(location) {
      const user = await requireUser(location.username);
      const filepath = normaliseFilepath(location.filepath);
      if (!(await store.files.delete(user.id, filepath, location.filename))) {
        throw new ProviderInputError(
          'filename',
          `There is no file ${filepath}${location.filename} in the private area of "${user.username}"`,
          'not-found',
        );
      }
    },

    async listFiles(username) {
      const user = await requireUser(username);
      return buildTree(await store.files.list(user.id));
    },

    async createService(input) {
      const fields = await validateService(input);
      try {
        return await store.services.create({ shortname: input.shortname, name: input.name, ...fields });
      } catch (error) {
        rethrowStoreError(error);
      }
    },

    async updateService(shortname, input) {
      const service = await requireService(shortname, 'shortname');
      const fields = await validateService(input);
      try {
        const updated = await store.services.update(service.id, {
          shortname: input.shortname,
          name: input.name,
          ...fields,
        });
        if (!updated)
          throw new ProviderInputError('shortname', `There is no service "${shortname}"`, 'not-found');
        return updated;
      } catch (error) {
        rethrowStoreError(error);
      }
    },

    async getService(shortname) {
      return store.services.getByShortname(shortname);
    },

    async listServices() {
      return store.services.list();
    },

    async createWebServiceToken(input) {
      const user = await requireUser(input.username);
      const service = await requireService(input.service);
      if (service.restrictedUsers && !service.authorisedUserIds.includes(user.id)) {
        throw invalid(
          'username',
          `"${user.username}" is not an authorised user of the restricted service "${service.shortname}"`,
        );
      }
      const ipRestriction = validateIpRestriction(input.ipRestriction ?? []);
      let validUntil: number | null = null;
      if (input.validUntil !== undefined && input.validUntil !== null) {
        const seconds =
          input.validUntil instanceof Date ? Math.floor(input.validUntil.getTime() / 1000) : input.validUntil;
        if (!Number.isSafeInteger(seconds)) throw invalid('validUntil', 'validUntil is not a valid time');
        if (seconds <= store.now()) throw invalid('validUntil', 'validUntil must be in the future');
        validUntil = seconds;
      }
      if (input.token !== undefined && !isTokenFormat(input.token)) {
        throw invalid('token', 'A token must be 32 lower-case hexadecimal characters');
      }
      const token = input.token ?? generateToken();
      try {
        const record = await store.tokens.create({
          token,
          userId: user.id,
          serviceId: service.id,
          ipRestriction,
          validUntil,
        });
        logger?.info({ tokenId: record.id, userId: user.id, service: service.shortname }, 'token created');
        return { token, view: await toTokenView(record) };
      } catch (error) {
        rethrowStoreError(error);
      }
    },

    async revokeToken(id) {
      if (!(await store.tokens.delete(id))) {
        throw new ProviderInputError('id', `There is no token with id ${id}`, 'not-found');
      }
      logger?.info({ tokenId: id }, 'token revoked');
    },

    async listTokens(filter = {}) {
      const userId = filter.username === undefined ? undefined : (await requireUser(filter.username)).id;
      const serviceId = filter.service === undefined ? undefined : (await requireService(filter.service)).id;
      const tokens = await store.tokens.list({ userId, serviceId });
      return Promise.all(tokens.map(toTokenView));
    },

    runCleanup() {
      return runProviderCleanup({ store, maxAgeMs: zipMaxAgeMs, orphanGraceMs, logger });
    },
  };
}
