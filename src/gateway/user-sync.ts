import type { Logger } from 'pino';
import { fail, type Result, siteFailure } from '../moodle/failures.js';
import { fanOut, type SiteOutcome } from './fan-out.js';
import type { SiteInfo } from './site.js';
import type { RegisteredSite } from './site-registry.js';

/** One person, as a portal pushes them to every platform. The password is a secret: never logged, never echoed. */
export interface SyncUserRequest {
  /** Sent exactly as given: platforms match usernames exactly. */
  readonly username: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly password: string;
  /**
   * Where the user ends registered: workspace codes (a provider) or course short names (a Moodle),
   * each with a role key. Everything else is left, but for workspaces the user owns on a provider.
   */
  readonly workspaces: readonly { readonly workspace: string; readonly role: string }[];
  /**
   * Whether an existing Moodle user's password is overwritten. Moodle cannot say whether a password
   * differs, so sending it would write every time; a provider compares it itself, whatever this says.
   */
  readonly updatePassword: boolean;
}

export interface UserSynced {
  /** The user's id on the platform. */
  readonly userId: number;
  /** Whether the user was created by this synchronization. */
  readonly created: boolean;
  /** Whether anything was written; `false` when the platform already held exactly this. */
  readonly changed: boolean;
}

export interface UserSyncCallOptions {
  /** The GraphQL request's signal. */
  readonly signal?: AbortSignal;
  /** The site's info (cached), for the functions its token may call. */
  readonly siteInfo?: () => Promise<Result<SiteInfo>>;
}

/** The port: pushing one user to one platform, whatever its kind. */
export interface UserSyncTarget {
  /** The longest one synchronization may take, all its calls together. */
  readonly deadlineMs: number;
  syncUser(request: SyncUserRequest, options?: UserSyncCallOptions): Promise<Result<UserSynced>>;
}

/** Which target serves which registered site; sites without one cannot synchronize users. */
export interface UserSyncTargets {
  get(entry: RegisteredSite): UserSyncTarget | undefined;
  set(tenant: string, siteId: string, target: UserSyncTarget): void;
  delete(tenant: string, siteId: string): boolean;
}

export function createUserSyncTargets(): UserSyncTargets {
  const targets = new Map<string, UserSyncTarget>();
  const key = (tenant: string, id: string) => `${tenant}\u0000${id}`;
  return {
    get: (entry) => targets.get(key(entry.tenant, entry.id)),
    set: (tenant, siteId, target) => {
      targets.set(key(tenant, siteId), target);
    },
    delete: (tenant, siteId) => targets.delete(key(tenant, siteId)),
  };
}

export interface SyncUserAcrossSites {
  readonly entries: readonly RegisteredSite[];
  readonly request: SyncUserRequest;
  /** Per request: each site's info, asked at most once (the request's DataLoader). */
  readonly siteInfo: (entry: RegisteredSite) => Promise<Result<SiteInfo>>;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
}

export interface UserSync {
  /** Pushes the user to every given site at once; each site's outcome is its own. */
  syncUser(args: SyncUserAcrossSites): Promise<SiteOutcome<UserSynced>[]>;
}

export interface UserSyncOptions {
  readonly targets: UserSyncTargets;
}

export function createUserSync({ targets }: UserSyncOptions): UserSync {
  return {
    async syncUser({ entries, request, siteInfo, signal, logger }) {
      const outcomes = await fanOut<UserSynced>(
        entries,
        async (entry) => {
          const target = targets.get(entry);
          if (!target) {
            return fail(
              siteFailure('FUNCTION_UNAVAILABLE', `${entry.id} is not set up for user synchronization`),
            );
          }
          return target.syncUser(request, { ...(signal && { signal }), siteInfo: () => siteInfo(entry) });
        },
        {
          deadlineMs: (entry) => targets.get(entry)?.deadlineMs ?? entry.timeouts.siteInfoMs,
          ...(logger && { logger }),
        },
      );
      for (const { entry, result } of outcomes) {
        // Never the request itself: it holds the password.
        if (result.ok) {
          logger?.info(
            {
              site: entry.id,
              userId: result.value.userId,
              created: result.value.created,
              changed: result.value.changed,
            },
            'user synchronized',
          );
        } else {
          logger?.warn(
            { site: entry.id, code: result.failure.code },
            `user synchronization failed: ${result.failure.message}`,
          );
        }
      }
      return outcomes;
    },
  };
}
