import type { BundleLinks } from './bundle-links.js';
import { bundleFileName } from './private-files-bundle.js';
import type { RegisteredSite } from './site-registry.js';
import type { ZipFileNameOptions } from './zip-file-name.js';

/** A signed link to one zip of a user's files from every listed site. */
export interface PrivateFilesBundleLink {
  readonly username: string;
  readonly filename: string;
  readonly downloadUrl: string;
  readonly expiresAt: Date;
  /** The sites the bundle asks, in order. */
  readonly sites: readonly string[];
}

export interface BundleRequests {
  request(args: {
    readonly tenant: string;
    readonly username: string;
    readonly entries: readonly RegisteredSite[];
    /** Where callers reach this gateway, e.g. `https://gateway.example`. */
    readonly baseUrl: string;
  }): Promise<PrivateFilesBundleLink>;
}

export interface BundleRequestsDependencies {
  readonly links: BundleLinks;
  readonly fileName: ZipFileNameOptions;
  readonly now?: () => Date;
}

/** Nothing is asked of the sites here: they are asked when the link is followed, so the zips are fresh. */
export function createBundleRequests({
  links,
  fileName,
  now = () => new Date(),
}: BundleRequestsDependencies): BundleRequests {
  return {
    async request({ tenant, username, entries, baseUrl }) {
      const filename = bundleFileName(fileName, now());
      const sites = entries.map((entry) => entry.id);
      const { token, expiresAt } = await links.sign({ tenant, username, sites, filename });
      return { username, filename, downloadUrl: `${baseUrl}/bundle/${token}`, expiresAt, sites };
    },
  };
}
