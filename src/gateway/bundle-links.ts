import {
  type CapabilityLinks,
  createCapabilityLinks,
  isString,
  type LinkSigningOptions,
  type VerifiedGrant,
} from './capability-links.js';

/** What a bundle link grants: one user's private files from these sites of one tenant, until it expires. */
export interface BundleGrant {
  readonly tenant: string;
  readonly username: string;
  /** The sites the caller saw when asking, in their order: the bundle never holds more. */
  readonly sites: readonly string[];
  /** The name the user's browser saves the bundle as. */
  readonly filename: string;
}

export type VerifiedBundleLink = VerifiedGrant<BundleGrant>;
export type BundleLinks = CapabilityLinks<BundleGrant>;
export type BundleLinksOptions = LinkSigningOptions;

/** Bundle links: one user's files from the sites the caller saw, of one tenant. */
export function createBundleLinks(options: BundleLinksOptions): BundleLinks {
  return createCapabilityLinks<BundleGrant>(
    {
      // Its own audience: a bundle link never passes as a download link, nor the other way round.
      audience: 'moodle-gateway:bundle',
      toClaims: (grant) => ({
        tnt: grant.tenant,
        usr: grant.username,
        sites: [...grant.sites],
        name: grant.filename,
      }),
      fromClaims: ({ tnt, usr, sites, name }) =>
        isString(tnt) && isString(usr) && isString(name) && Array.isArray(sites) && sites.every(isString)
          ? { tenant: tnt, username: usr, sites, filename: name }
          : null,
    },
    options,
  );
}
