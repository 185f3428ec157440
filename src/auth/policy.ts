import type { Caller } from './caller.js';

/**
 * Every authorization rule of the gateway, in one place (the README's table is this file).
 *
 * | operation                                   | anonymous          | user           | service | admin |
 * |---------------------------------------------|--------------------|----------------|---------|-------|
 * | externalSites: id, name, url, status        | yes (unless denied)| yes            | yes     | yes   |
 * | externalSites: info, functions, priority…   | no                 | yes            | yes     | yes   |
 * | privateFilesZip(s) for their own username   | no                 | yes            | yes     | yes   |
 * | privateFilesZip(s) for another username     | no                 | no             | yes     | yes   |
 * | provider management, site registry          | no                 | no             | no      | yes   |
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
  canAdminister(caller: Caller): boolean;
}

export function createPolicy({ anonymous }: PolicyOptions): Policy {
  const authenticated = (caller: Caller) => caller.role !== 'anonymous';
  const actsForAnyone = (caller: Caller) => caller.role === 'service' || caller.role === 'admin';
  return {
    canListSites: (caller) => authenticated(caller) || anonymous === 'public',
    canSeeSiteDetails: authenticated,
    // Usernames are compared exactly, as Moodle matches them: `Alice` is not `alice`.
    canReadFilesOf: (caller, username) =>
      actsForAnyone(caller) || (caller.role === 'user' && caller.username === username),
    canReadFilesOfAnyone: actsForAnyone,
    canAdminister: (caller) => caller.role === 'admin',
  };
}
