import type { Logger } from 'pino';
import type { Caller } from '../auth/caller.js';
import type { Policy } from '../auth/policy.js';
import type { AnswerFreshness } from '../gateway/answer-freshness.js';
import type { BundleRequests } from '../gateway/bundle-requests.js';
import type { GatewayLoaders } from '../gateway/loaders.js';
import type { PrivateFiles } from '../gateway/private-files.js';
import type { SiteHub } from '../gateway/site-hub.js';
import type { SiteRegistry } from '../gateway/site-registry.js';
import type { UserSync } from '../gateway/user-sync.js';
import type { ProviderAdmin } from '../provider/provider-admin.js';
import type { UserSyncAdmin } from '../provider/user-sync/user-sync-admin.js';

/** What every resolver may use: the gateway's services plus this request's own caller and loaders. */
export interface GraphQLContext {
  readonly caller: Caller;
  readonly policy: Policy;
  /** The caller's tenant: every site lookup is made for it. */
  readonly tenant: string;
  readonly registry: SiteRegistry;
  readonly privateFiles: PrivateFiles;
  readonly loaders: GatewayLoaders;
  /** What the answer is computed from, for the response cache: resolvers of reusable fields tell it. */
  readonly freshness: AnswerFreshness;
  /** The local provider's management, when the provider runs in this process. */
  readonly providerAdmin: ProviderAdmin | null;
  /** The site registry's management (tenants, registered sites); absent, its operations say so. */
  readonly hub?: SiteHub;
  /** Signs links to the all-sites bundle; absent, the bundle is not offered. */
  readonly bundles?: BundleRequests;
  /** Pushes users to the sites (`syncUser`); absent, the mutation says user synchronization is off. */
  readonly userSync?: UserSync;
  /** The local provider's security tokens, workspaces and registrations, when it runs in this process. */
  readonly userSyncAdmin?: UserSyncAdmin | null;
  /** Where this caller reaches the gateway; download links are built on it. */
  readonly baseUrl: string;
  readonly logger: Logger;
}
