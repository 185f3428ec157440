import { hashPassword, verifyPassword } from '../password.js';
import { ProviderInputError, validateUsername } from '../provider-admin.js';
import type { ProviderLogger } from '../rest/provider-logger.js';
import type { ProviderStore } from '../store/repository.js';
import type { SyncRequest } from './parse-sync-request.js';
import { USER_SYNC_ANSWERS, type UserSyncRefusal } from './user-sync-answers.js';

export type SyncAnswer =
  | { readonly ok: true; readonly userId: number; readonly created: boolean; readonly changed: boolean }
  | { readonly ok: false; readonly refusal: UserSyncRefusal; readonly why: string };

export interface RemoteUserSync {
  /** Creates or updates the user and replaces their registrations, or says why not. */
  sync(request: SyncRequest): Promise<SyncAnswer>;
}

export interface RemoteUserSyncOptions {
  readonly store: Pick<ProviderStore, 'users' | 'workspaces' | 'remoteUsers'>;
  readonly logger?: ProviderLogger;
}

const MIN_PASSWORD_LENGTH = 8;
// Bounds the hashing work a caller can ask for.
const MAX_PASSWORD_LENGTH = 1024;
const MAX_NAME_LENGTH = 100;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

function refuse(refusal: UserSyncRefusal, why: string): SyncAnswer {
  return { ok: false, refusal, why };
}

/** Why a value is refused (`User edition error`), or `null`. Never mentions the password itself. */
function invalidValue(request: SyncRequest): string | null {
  try {
    validateUsername(request.username);
  } catch (error) {
    if (error instanceof ProviderInputError) return error.message;
    throw error;
  }
  for (const [field, value] of [
    ['firstName', request.firstName],
    ['lastName', request.lastName],
  ] as const) {
    if (value.length > MAX_NAME_LENGTH || CONTROL_CHARS.test(value) || value.trim() === '') {
      return `${field}: at most ${MAX_NAME_LENGTH} characters, not blank, without control characters`;
    }
  }
  if (request.email.length > MAX_NAME_LENGTH || !EMAIL.test(request.email))
    return 'email: not an e-mail address';
  if (request.password.length < MIN_PASSWORD_LENGTH || request.password.length > MAX_PASSWORD_LENGTH) {
    return `password: ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`;
  }
  return null;
}

/** The endpoint's behaviour, between the checked request and the store's one transaction. */
export function createRemoteUserSync({ store, logger }: RemoteUserSyncOptions): RemoteUserSync {
  return {
    async sync(request) {
      const current = request.userId === undefined ? null : await store.users.getById(request.userId);
      if (request.userId !== undefined && !current) {
        return refuse(USER_SYNC_ANSWERS.notFound, `no user with id ${request.userId}`);
      }
      const invalid = invalidValue(request);
      if (invalid !== null) return refuse(USER_SYNC_ANSWERS.userEditionError, invalid);
      // A cheap look before the costly hashing; the store's transaction checks again.
      const namesake = await store.users.getByUsername(request.username);
      if (namesake && namesake.id !== current?.id) {
        return refuse(USER_SYNC_ANSWERS.userEditionError, 'username-taken');
      }
      if ((await store.users.listByEmail(request.email)).some((user) => user.id !== current?.id)) {
        return refuse(USER_SYNC_ANSWERS.userEditionError, 'email-taken');
      }
      for (const { code, role } of request.workspaces) {
        const workspace = await store.workspaces.getByCode(code);
        if (!workspace?.roles.includes(role)) {
          return refuse(USER_SYNC_ANSWERS.userEditionError, `unknown workspace or role: ${code} ${role}`);
        }
      }

      // The same password again must write nothing, so it is compared before anything is hashed.
      const samePassword =
        current?.passwordHash != null && (await verifyPassword(request.password, current.passwordHash));
      const outcome = await store.remoteUsers.apply({
        userId: current?.id ?? null,
        username: request.username,
        firstname: request.firstName,
        lastname: request.lastName,
        email: request.email,
        ...(samePassword ? {} : { passwordHash: await hashPassword(request.password) }),
        registrations: request.workspaces.map(({ code, role }) => ({ workspaceCode: code, role })),
      });
      if (!outcome.ok) {
        const refusal =
          outcome.reason === 'user-not-found'
            ? USER_SYNC_ANSWERS.notFound
            : USER_SYNC_ANSWERS.userEditionError;
        return refuse(refusal, `${outcome.reason}: ${outcome.detail}`);
      }
      const { user, created, changed } = outcome;
      logger?.info(
        { userId: user.id, username: user.username, created, changed },
        'remote user synchronized',
      );
      return { ok: true, userId: user.id, created, changed };
    },
  };
}
