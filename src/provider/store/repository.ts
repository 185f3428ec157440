import type { BlobStore } from './blob-store.js';
import type {
  RegistrationRepository,
  RemoteUserSyncRepository,
  SecurityTokenRepository,
  WorkspaceRepository,
} from './user-sync-repository.js';

/*
 * The provider's repository interface. Everything is Promise-based so that a networked store
 * (PostgreSQL + object storage) can replace the embedded SQLite one without touching callers.
 * Times are Unix seconds, as Moodle stores them. Ids are positive integers.
 */

export interface UserCapabilities {
  /** `block/my_external_privatefiles:can_retrieve_files_from_other_users` */
  readonly canRetrieveFilesFromOtherUsers: boolean;
  /** `block/my_external_privatefiles:can_create_draftuserfiles_for_other_users` */
  readonly canCreateDraftUserFilesForOtherUsers: boolean;
}

export const NO_CAPABILITIES: UserCapabilities = Object.freeze({
  canRetrieveFilesFromOtherUsers: false,
  canCreateDraftUserFilesForOtherUsers: false,
});

/** A user; a web-service account is a user holding capabilities. */
export interface ProviderUser {
  readonly id: number;
  /** Lower case and trimmed, unique, matched exactly (`ALICE` is not `alice`), as Moodle does. */
  readonly username: string;
  readonly firstname: string;
  readonly lastname: string;
  readonly email: string;
  readonly lang: string;
  readonly suspended: boolean;
  /** `password.ts` format; `null` for accounts that never log in with a password. */
  readonly passwordHash: string | null;
  readonly capabilities: UserCapabilities;
  readonly timecreated: number;
  readonly timemodified: number;
}

export interface NewUser {
  /** Must already be lower case and trimmed: the store rejects anything else (`StoreInvariantError`). */
  readonly username: string;
  /** @default '' */
  readonly firstname?: string;
  /** @default '' */
  readonly lastname?: string;
  /** @default '' */
  readonly email?: string;
  /** @default 'en' */
  readonly lang?: string;
  /** @default false */
  readonly suspended?: boolean;
  /** @default null */
  readonly passwordHash?: string | null;
  /** @default NO_CAPABILITIES */
  readonly capabilities?: UserCapabilities;
}

export type UserPatch = Partial<Omit<NewUser, 'capabilities'>> & {
  readonly capabilities?: Partial<UserCapabilities>;
};

export interface UserRepository {
  /** @throws StoreConflictError (`field: 'username'`) when the username is taken. */
  create(input: NewUser): Promise<ProviderUser>;
  /** `null` when there is no such user. @throws StoreConflictError on a taken username. */
  update(id: number, patch: UserPatch): Promise<ProviderUser | null>;
  /**
   * Deletes the user with their private files, tokens, service authorisations and the zips made of
   * their files, in one transaction. Blobs are left to garbage collection. `false` when absent.
   */
  delete(id: number): Promise<boolean>;
  getById(id: number): Promise<ProviderUser | null>;
  /** Exact match: no lower-casing, no trimming. */
  getByUsername(username: string): Promise<ProviderUser | null>;
  /** Users with this e-mail (case-insensitive), for Moodle's "e-mail taken" rule. */
  listByEmail(email: string): Promise<ProviderUser[]>;
  /** Ordered by id. */
  list(): Promise<ProviderUser[]>;
}

/** A file in a user's private area. */
export interface PrivateFile {
  readonly id: number;
  readonly userId: number;
  /** Normalised folder: `/` or `/notes/2024/` (leading and trailing slash). */
  readonly filepath: string;
  readonly filename: string;
  readonly size: number;
  readonly mimetype: string;
  /** SHA-1 hex of the content: the blob's name. */
  readonly contenthash: string;
  readonly timecreated: number;
  readonly timemodified: number;
}

export interface PutPrivateFile {
  readonly userId: number;
  readonly filepath: string;
  readonly filename: string;
  readonly size: number;
  readonly mimetype: string;
  readonly contenthash: string;
}

export interface PrivateFileRepository {
  /**
   * Creates the file, or atomically replaces the one at the same path (keeping its `timecreated`).
   * @throws StoreInvariantError when the user does not exist or the path is not normalised.
   */
  put(input: PutPrivateFile): Promise<PrivateFile>;
  get(userId: number, filepath: string, filename: string): Promise<PrivateFile | null>;
  /** Ordered by filepath then filename. */
  list(userId: number): Promise<PrivateFile[]>;
  delete(userId: number, filepath: string, filename: string): Promise<boolean>;
  /** Sum of the sizes of the user's files (0 when none). */
  totalSize(userId: number): Promise<number>;
}

/** An external service: the functions a token may call and who may use it. */
export interface ProviderService {
  readonly id: number;
  /** Unique, e.g. `wsblockmyexternalprivatefiles`. */
  readonly shortname: string;
  readonly name: string;
  /** Web-service function names (`core_webservice_get_site_info`, …). */
  readonly functions: readonly string[];
  /** Moodle's "can download files". */
  readonly downloadFiles: boolean;
  /** Moodle's "can upload files". */
  readonly uploadFiles: boolean;
  /** When on, only `authorisedUserIds` may use it. */
  readonly restrictedUsers: boolean;
  readonly authorisedUserIds: readonly number[];
  readonly enabled: boolean;
  readonly timecreated: number;
  readonly timemodified: number;
}

export interface NewService {
  readonly shortname: string;
  readonly name: string;
  /** @default [] */
  readonly functions?: readonly string[];
  /** @default false */
  readonly downloadFiles?: boolean;
  /** @default false */
  readonly uploadFiles?: boolean;
  /** @default true */
  readonly restrictedUsers?: boolean;
  /** @default [] */
  readonly authorisedUserIds?: readonly number[];
  /** @default true */
  readonly enabled?: boolean;
}

export type ServicePatch = Partial<NewService>;

export interface ServiceRepository {
  /** @throws StoreConflictError (`field: 'shortname'`) when taken. */
  create(input: NewService): Promise<ProviderService>;
  update(id: number, patch: ServicePatch): Promise<ProviderService | null>;
  /** Deletes the service and its tokens. */
  delete(id: number): Promise<boolean>;
  getById(id: number): Promise<ProviderService | null>;
  getByShortname(shortname: string): Promise<ProviderService | null>;
  list(): Promise<ProviderService[]>;
}

/** A web-service token. The clear token is never stored: only its SHA-256. */
export interface WebServiceToken {
  readonly id: number;
  /** SHA-256 hex of the clear token. */
  readonly tokenHash: string;
  /** The clear token's last 4 characters, for a masked form (`maskToken` in token-generator.ts). */
  readonly hint: string;
  readonly userId: number;
  readonly serviceId: number;
  /** Addresses or CIDR ranges (IPv4/IPv6); empty means any address. */
  readonly ipRestriction: readonly string[];
  /** Unix seconds after which the token is expired; `null` for never. */
  readonly validUntil: number | null;
  readonly lastAccess: number | null;
  readonly timecreated: number;
}

export interface NewWebServiceToken {
  /** The clear token (32 lower-case hex, see token-generator.ts); only its hash is kept. */
  readonly token: string;
  readonly userId: number;
  readonly serviceId: number;
  /** @default [] */
  readonly ipRestriction?: readonly string[];
  /** @default null */
  readonly validUntil?: number | null;
}

export interface TokenRepository {
  /** @throws StoreInvariantError when the user or service does not exist. */
  create(input: NewWebServiceToken): Promise<WebServiceToken>;
  /** Looks the clear token up by its hash; `null` when unknown. */
  findByToken(token: string): Promise<WebServiceToken | null>;
  getById(id: number): Promise<WebServiceToken | null>;
  /** Records a use. @default at now */
  touch(id: number, at?: number): Promise<void>;
  delete(id: number): Promise<boolean>;
  /** Ordered by id; filters combine. */
  list(filter?: { readonly userId?: number; readonly serviceId?: number }): Promise<WebServiceToken[]>;
}

/** A zip made by `block_my_external_privatefiles_get_private_files_zip`, kept in a draft area. */
export interface GeneratedZip {
  readonly id: number;
  readonly contextid: number;
  /** Random 9-digit draft item id, as Moodle's. */
  readonly itemid: number;
  /** Always `/`. */
  readonly filepath: string;
  /** `myprivatefiles.zip`. */
  readonly filename: string;
  readonly contenthash: string;
  readonly size: number;
  /** Whose private files it holds. */
  readonly ownerUserId: number;
  /** The web-service account that asked for it. */
  readonly requestedByUserId: number;
  readonly timecreated: number;
  /** What made it (e.g. `block_my_external_privatefiles_get_private_files_zip`). */
  readonly source: string;
}

export interface NewGeneratedZip {
  readonly contextid: number;
  readonly itemid: number;
  readonly filename: string;
  readonly contenthash: string;
  readonly size: number;
  readonly ownerUserId: number;
  readonly requestedByUserId: number;
  readonly source: string;
  /** @default now */
  readonly timecreated?: number;
}

/** Held while a zip is being downloaded; cleanup never deletes a zip (or its blob) under a reader. */
export interface ZipReadLease {
  readonly zip: GeneratedZip;
  /** Idempotent. Call it when the download ends, however it ends. */
  release(): void;
}

export interface GeneratedZipRepository {
  /** @throws StoreConflictError (`field: 'itemid'`) when (contextid, itemid, filename) is taken. */
  record(input: NewGeneratedZip): Promise<GeneratedZip>;
  find(contextid: number, itemid: number, filename: string): Promise<GeneratedZip | null>;
  getById(id: number): Promise<GeneratedZip | null>;
  /** Zips created strictly before `cutoff` (Unix seconds), oldest first. */
  listOlderThan(cutoff: number): Promise<GeneratedZip[]>;
  /** `false` when absent or currently leased to a reader (then it is kept). */
  delete(id: number): Promise<boolean>;
  /** Takes a read lease; `null` when the zip no longer exists. */
  acquireRead(id: number): Promise<ZipReadLease | null>;
  isBeingRead(id: number): boolean;
}

export interface SweepOptions {
  /**
   * Blobs modified more recently than this are kept even when unreferenced, because a write may
   * have stored the blob and not yet committed the row that points to it.
   * @default 3_600_000 (one hour)
   */
  readonly graceMs?: number;
}

export interface SweepResult {
  readonly freedBlobs: number;
  readonly freedBytes: number;
}

/** The whole provider store. */
export interface ProviderStore {
  readonly users: UserRepository;
  readonly files: PrivateFileRepository;
  readonly services: ServiceRepository;
  readonly tokens: TokenRepository;
  readonly zips: GeneratedZipRepository;
  readonly blobs: BlobStore;
  /** Remote user synchronization (user-sync-repository.ts). */
  readonly securityTokens: SecurityTokenRepository;
  readonly workspaces: WorkspaceRepository;
  readonly registrations: RegistrationRepository;
  readonly remoteUsers: RemoteUserSyncRepository;
  /** Whether some row (file or zip) or a read lease points at the blob. */
  isBlobReferenced(contenthash: string): Promise<boolean>;
  /** Deletes the blob when nothing points at it and it is past the grace period; `true` when deleted. */
  deleteBlobIfUnreferenced(contenthash: string, options?: SweepOptions): Promise<boolean>;
  /** Deletes every unreferenced blob past the grace period, and stale temp files. */
  sweepOrphanBlobs(options?: SweepOptions): Promise<SweepResult>;
  /** Unix seconds according to the store's clock (injectable in tests). */
  now(): number;
  close(): Promise<void>;
}

/** A unique value is taken (username, service shortname, draft item). */
export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
  readonly code = 'STORE_CONFLICT';
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The caller broke a rule the store enforces (unknown user, non-normalised name, …). */
export class StoreInvariantError extends Error {
  override readonly name = 'StoreInvariantError';
  readonly code = 'STORE_INVARIANT';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
