import type { Caller } from './caller.js';

/**
 * Every authorization rule of the gateway, in one place (the README's table is this file).
 *
 * | operation                                   | anonymous          | user           | service | tenant-admin | admin |
 * |---------------------------------------------|--------------------|----------------|---------|--------------|-------|
 * | externalSites: id, name, url, status        | yes (unless denied)| yes            | yes     | yes          | yes   |
 * | externalSites: info, functions, priority…   | no                 | yes            | yes     | yes          | yes   |
 * | hidden and disabled sites in lists          | no                 | no             | no      | yes          | yes   |
 * | privateFilesZip(s), bundle, own username    | no                 | yes            | yes     | yes          | yes   |
 * | privateFilesZip(s), bundle, another username| no                 | no             | yes     | yes          | yes   |
 * | syncUser (push a user to the platforms)     | no                 | no             | yes     | yes          | yes   |
 * | site registry of the caller's own tenant    | no                 | no             | no      | yes          | yes   |
 * | site registry of another tenant             | no                 | no             | no      | no           | yes   |
 * | tenants (create, remove, list)              | no                 | no             | no      | no           | yes   |
 * | provider management                         | no                 | no             | no      | no           | yes   |
 *
 * Every caller acts within its own tenant (its key's or its token's): sites of other tenants are not
 * there for it, and answer as unknown sites do. Only an `admin` (a global admin) names other tenants.
 */
export interface PolicyOptions {
  /** `deny` refuses anonymous callers everything. */
  readonly anonymous: 'public' | 'deny';
}

export interface Policy {
  canListSites(caller: Caller): boolean;
  canSeeSiteDetails(caller: Caller): boolean;
  canReadFilesOf(caller: Caller, username: string): boolean;
  canReadFilesOfAnyone(caller: Caller): boolean;
  /** Push users to the platforms (`syncUser`). */
  canSyncUsers(caller: Caller): boolean;
  canAdminister(caller: Caller): boolean;
  /** Hidden and disabled sites of the caller's own tenant appear in its lists. */
  canSeeUnlistedSites(caller: Caller): boolean;
  /** Register, update and remove the sites of `tenant`, and read their registration. */
  canManageSitesOf(caller: Caller, tenant: string): boolean;
  /** Create, remove and list tenants. */
  canManageTenants(caller: Caller): boolean;
}

export function createPolicy({ anonymous }: PolicyOptions): Policy {
  const authenticated = (caller: Caller) => caller.role !== 'anonymous';
  const actsForAnyone = (caller: Caller) =>
    caller.role === 'service' || caller.role === 'admin' || caller.role === 'tenant-admin';
  const managesSites = (caller: Caller) => caller.role === 'admin' || caller.role === 'tenant-admin';
  return {
    canListSites: (caller) => authenticated(caller) || anonymous === 'public',
    canSeeSiteDetails: authenticated,
    // Usernames are compared exactly, as Moodle matches them: `Alice` is not `alice`.
    canReadFilesOf: (caller, username) =>
      actsForAnyone(caller) || (caller.role === 'user' && caller.username === username),
    canReadFilesOfAnyone: actsForAnyone,
    canSyncUsers: actsForAnyone,
    canAdminister: (caller) => caller.role === 'admin',
    canSeeUnlistedSites: managesSites,
    canManageSitesOf: (caller, tenant) =>
      caller.role === 'admin' || (caller.role === 'tenant-admin' && caller.tenant === tenant),
    canManageTenants: (caller) => caller.role === 'admin',
  };
}
