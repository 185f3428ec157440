import { timingSafeEqual } from 'node:crypto';
import { createIpMatcher } from './rest/ip-allow-list.js';
import type {
  ProviderService,
  ProviderStore,
  ProviderUser,
  UserCapabilities,
  WebServiceToken,
} from './store/repository.js';
import { hashToken } from './token-generator.js';

/** A capability of the plugin, by its field in `UserCapabilities`. */
export type ProviderCapability = keyof UserCapabilities;

/** Why a token may not do what it asked; the REST and download surfaces turn it into Moodle's error. */
export type TokenFailureReason =
  | 'missingtoken'
  | 'invalidtoken'
  | 'expired'
  | 'ipnotallowed'
  | 'maintenance'
  | 'usersuspended'
  | 'serviceunavailable'
  | 'usernotauthorised'
  | 'missingfunction'
  | 'unknownfunction'
  | 'functionnotinservice'
  | 'downloaddisabled'
  | 'missingcapability';

export interface TokenFailure {
  readonly ok: false;
  readonly reason: TokenFailureReason;
  /** For logs and Moodle's debug mode; never holds the token. */
  readonly debuginfo: string;
  /** The account's username, for `wsaccessusersuspended`. */
  readonly username?: string;
  /** The capability that was missing, for `nopermissions`. */
  readonly capability?: ProviderCapability;
}

/** What a valid token may act as. */
export interface TokenGrant {
  readonly ok: true;
  readonly token: WebServiceToken;
  readonly user: ProviderUser;
  readonly service: ProviderService;
}

export type TokenCheckResult = TokenGrant | TokenFailure;

/** What the token is being used for: calling a web-service function, or downloading a file. */
export type TokenPurpose =
  | { readonly kind: 'function'; readonly wsfunction: string | undefined }
  | { readonly kind: 'download' };

export interface TokenCheckRequest {
  /** The clear token as sent; `undefined` when the request had none (an empty one is merely wrong). */
  readonly token: string | undefined;
  /** The caller's address (see `createClientIpResolver`). */
  readonly ip: string;
  readonly purpose: TokenPurpose;
}

export interface TokenCheckOptions {
  readonly store: Pick<ProviderStore, 'tokens' | 'users' | 'services' | 'now'>;
  /** Whether a web-service function of this name exists at all (unknown ones are `invalidrecord`). */
  readonly functionExists: (wsfunction: string) => boolean;
  /**
   * Milliseconds since the epoch, as the store's clock; tests move time with it.
   * @default the store's clock
   */
  readonly clock?: () => number;
  /**
   * Whether the site is in maintenance (the admin-page mode, answered `sitemaintenance`).
   * @default () => false
   */
  readonly maintenance?: () => boolean;
}

export interface TokenCheck {
  check(request: TokenCheckRequest): Promise<TokenCheckResult>;
}

function fail(reason: TokenFailureReason, debuginfo: string, extra?: Partial<TokenFailure>): TokenFailure {
  return { ok: false, reason, debuginfo, ...extra };
}

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Checks a web-service token the way Moodle does (webservice_server::authenticate_user then
 * load_function_info, or webservice::authenticate_user for file serving): existence, valid-until
 * (an expired token is deleted on its first use, so later uses are `invalidtoken`), IP restriction,
 * the account (suspended), the service (enabled, authorised users, function list, download flag).
 * Records the token's last access once it is known to be genuine.
 */
export function createTokenCheck(options: TokenCheckOptions): TokenCheck {
  const { store, functionExists, clock = () => store.now() * 1000, maintenance = () => false } = options;

  async function check({ token: clear, ip, purpose }: TokenCheckRequest): Promise<TokenCheckResult> {
    if (clear === undefined) return fail('missingtoken', 'no token');
    const token = await store.tokens.findByToken(clear);
    // The lookup goes through the hash; comparing it again in constant time keeps a store whose
    // index compares early-exit from leaking how close a guess came.
    if (!token || !sameHash(token.tokenHash, hashToken(clear)))
      return fail('invalidtoken', 'token not found');
    const now = Math.floor(clock() / 1000);
    if (token.validUntil !== null && token.validUntil < now) {
      await store.tokens.delete(token.id);
      return fail('expired', 'Invalid token - token expired - check validuntil time for the token');
    }
    if (token.ipRestriction.length > 0 && !createIpMatcher(token.ipRestriction)(ip)) {
      return fail('ipnotallowed', `Invalid service - IP:${ip} is not supported`);
    }
    if (token.lastAccess !== now) await store.tokens.touch(token.id, now);

    const user = await store.users.getById(token.userId);
    if (!user) return fail('invalidtoken', 'the token owner no longer exists');
    if (maintenance()) return fail('maintenance', 'site in maintenance');
    if (user.suspended) {
      return fail('usersuspended', `Refused web service access for suspended username: ${user.username}`, {
        username: user.username,
      });
    }

    if (purpose.kind === 'function') {
      if (purpose.wsfunction === undefined || purpose.wsfunction === '') {
        return fail('missingfunction', 'Missing function name');
      }
      if (!functionExists(purpose.wsfunction)) return fail('unknownfunction', 'function does not exist');
    }

    const service = await store.services.getById(token.serviceId);
    if (!service?.enabled) {
      return fail(
        'serviceunavailable',
        "Web service is not available (it doesn't exist or might be disabled)",
      );
    }
    if (service.restrictedUsers && !service.authorisedUserIds.includes(user.id)) {
      return fail('usernotauthorised', `The user is not allowed for the service ${service.shortname}`);
    }
    if (purpose.kind === 'function' && !service.functions.includes(purpose.wsfunction ?? '')) {
      return fail('functionnotinservice', `Access to the function ${purpose.wsfunction}() is not allowed`);
    }
    if (purpose.kind === 'download' && !service.downloadFiles) {
      return fail(
        'downloaddisabled',
        'Web service file downloading must be enabled in external service settings',
      );
    }
    return { ok: true, token, user, service };
  }

  return { check };
}

/** `null` when the account holds the capability, else the `missingcapability` failure. */
export function checkCapability(user: ProviderUser, capability: ProviderCapability): TokenFailure | null {
  return user.capabilities[capability]
    ? null
    : fail('missingcapability', `missing capability ${capability}`, { capability });
}
