import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { GatewayConfig, SiteConfig } from '../config/config-schema.js';
import {
  createUserSync,
  createUserSyncTargets,
  type UserSync,
  type UserSyncTargets,
} from '../gateway/user-sync.js';
import { createMoodleUserSync } from '../moodle/moodle-user-sync.js';
import { createProviderUserSync, type ProviderUserSyncCredentials } from '../moodle/provider-user-sync.js';
import type { UserSyncAdmin } from '../provider/user-sync/user-sync-admin.js';

/** The client name under which the gateway synchronizes users to its own embedded provider. */
export const SELF_SYNC_CLIENT = 'moodle-gateway';

export interface GatewayUserSync {
  readonly userSync: UserSync;
  readonly targets: UserSyncTargets;
  /** Makes a configured site a synchronization target, by its kind; `url` where it is reached. */
  addSite(site: SiteConfig, url?: string): void;
}

export interface GatewayUserSyncOptions {
  readonly config: GatewayConfig;
  /** The process's undici Agent. */
  readonly dispatcher: Dispatcher;
  readonly logger?: Logger;
}

/** A synchronization makes several calls in a row, each within the site's quick-call deadline. */
const CALLS_PER_SYNC = 3;

/** Every configured site becomes a target: Moodles through their web services, providers through their endpoint. */
export function createGatewayUserSync({
  config,
  dispatcher,
  logger,
}: GatewayUserSyncOptions): GatewayUserSync {
  const targets = createUserSyncTargets();

  function addSite(site: SiteConfig, url = site.url): void {
    const siteInfoMs = site.timeouts?.siteInfoMs ?? site.timeoutMs ?? config.timeouts.siteInfoMs;
    const deadlineMs = CALLS_PER_SYNC * siteInfoMs;
    const target =
      site.kind === 'provider'
        ? createProviderUserSync({
            site: { id: site.id, url },
            credentials: site.userSync ?? null,
            dispatcher,
            deadlineMs,
            ...(logger && { logger }),
          })
        : createMoodleUserSync({
            site: { id: site.id, url, token: site.token },
            dispatcher,
            roles: site.roles ?? {},
            deadlineMs,
            maxResponseBytes: config.maxResponseBytes,
            ...(logger && { logger }),
          });
    targets.set(site.tenant, site.id, target);
  }

  for (const site of config.sites) addSite(site);
  return { userSync: createUserSync({ targets }), targets, addSite };
}

/**
 * Gives the gateway a fresh security token on its own embedded provider, allowed from the address it
 * reaches itself at. The clear token cannot be read back, so each start replaces the previous one.
 */
export async function selfSyncCredentials(
  admin: UserSyncAdmin,
  gatewayUrl: URL,
): Promise<ProviderUserSyncCredentials> {
  const host = gatewayUrl.hostname.replace(/^\[|\]$/g, '');
  const ipAddress = isIP(host) !== 0 ? host : (await lookup(host)).address;
  const previous = await admin.listSecurityTokens();
  if (previous.some((token) => token.clientName === SELF_SYNC_CLIENT)) {
    await admin.deleteSecurityToken(SELF_SYNC_CLIENT);
  }
  const { token } = await admin.createSecurityToken({ clientName: SELF_SYNC_CLIENT, ipAddress });
  return { client: SELF_SYNC_CLIENT, token };
}
