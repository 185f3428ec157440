import {
  type CapabilityLinks,
  createCapabilityLinks,
  isString,
  type LinkSigningOptions,
  type VerifiedGrant,
} from './capability-links.js';

/** What a download link grants: one remote file of one user on one site, until it expires. */
export interface DownloadGrant {
  readonly tenant: string;
  readonly site: string;
  readonly username: string;
  readonly relativepath: string;
  /** The name the user's browser saves the file as. */
  readonly filename: string;
}

export type VerifiedLink = VerifiedGrant<DownloadGrant>;
export type SignedLinks = CapabilityLinks<DownloadGrant>;
export type SignedLinksOptions = LinkSigningOptions;

/** Download links: bound to the site, the user and the remote file. */
export function createSignedLinks(options: SignedLinksOptions): SignedLinks {
  return createCapabilityLinks<DownloadGrant>(
    {
      audience: 'moodle-gateway:download',
      toClaims: (grant) => ({
        tnt: grant.tenant,
        site: grant.site,
        usr: grant.username,
        path: grant.relativepath,
        name: grant.filename,
      }),
      fromClaims: ({ tnt, site, usr, path, name }) =>
        isString(tnt) && isString(site) && isString(usr) && isString(path) && isString(name)
          ? { tenant: tnt, site, username: usr, relativepath: path, filename: name }
          : null,
    },
    options,
  );
}
