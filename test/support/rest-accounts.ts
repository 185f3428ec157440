import type { ProviderAdmin } from '../../src/provider/provider-admin.js';
import { DEMO_SERVICE_SHORTNAME } from '../../src/provider/seed-demo.js';
import type { ProviderStore, UserCapabilities } from '../../src/provider/store/repository.js';

export const BOTH_CAPABILITIES: UserCapabilities = {
  canRetrieveFilesFromOtherUsers: true,
  canCreateDraftUserFilesForOtherUsers: true,
};

export interface AccountOptions {
  readonly username: string;
  /** @default both capabilities */
  readonly capabilities?: Partial<UserCapabilities>;
  /** @default 'en' */
  readonly lang?: string;
  /** @default false */
  readonly suspended?: boolean;
  /** Shortname of the service the token is for. @default the demo's plugin service */
  readonly service?: string;
  readonly ipRestriction?: readonly string[];
  /** Unix seconds. */
  readonly validUntil?: number;
}

export interface Account {
  readonly userId: number;
  readonly tokenId: number;
  readonly token: string;
}

/**
 * Creates a web-service account authorised on the service, and a token for it. Suspension is set
 * after the token, as it happens to a real account.
 */
export async function addAccount(
  admin: ProviderAdmin,
  store: ProviderStore,
  options: AccountOptions,
): Promise<Account> {
  const {
    username,
    capabilities = BOTH_CAPABILITIES,
    lang,
    suspended = false,
    service = DEMO_SERVICE_SHORTNAME,
  } = options;
  const user = await admin.createUser({ username, firstname: 'ws', lastname: username, lang, capabilities });
  const found = await store.services.getByShortname(service);
  if (!found) throw new Error(`no service ${service}`);
  await store.services.update(found.id, { authorisedUserIds: [...found.authorisedUserIds, user.id] });
  const { token, view } = await admin.createWebServiceToken({
    username,
    service,
    ipRestriction: options.ipRestriction,
    validUntil: options.validUntil,
  });
  if (suspended) await admin.updateUser(username, { suspended: true });
  return { userId: user.id, tokenId: view.id, token };
}
