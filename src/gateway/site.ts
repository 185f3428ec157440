import type { Readable } from 'node:stream';
import type { Result } from '../moodle/failures.js';

/** What `core_webservice_get_site_info` tells about a site (secrets such as `userprivateaccesskey` dropped). */
export interface SiteInfo {
  readonly sitename: string;
  readonly siteurl: string;
  readonly release: string | null;
  readonly version: string | null;
  readonly lang: string | null;
  /** The web-service account the token belongs to. */
  readonly username: string | null;
  readonly downloadfiles: boolean;
  readonly uploadfiles: boolean;
  readonly functions: readonly { readonly name: string; readonly version: string }[];
}

/** The draft file `block_my_external_privatefiles_get_private_files_zip` answers. */
export interface ZipDescriptor {
  readonly contextid: number;
  readonly component: string;
  readonly filearea: string;
  readonly itemid: number;
  readonly filepath: string;
  readonly filename: string;
  readonly relativepath: string;
}

/** A remote file being streamed; the caller must consume or destroy `body`. */
export interface RemoteDownload {
  readonly body: Readable;
  readonly contentType: string;
  readonly contentLength: number | null;
}

export interface CallOptions {
  /** Aborts the remote call (the GraphQL request went away, or a download client left). */
  readonly signal?: AbortSignal;
}

/**
 * The port: everything the gateway needs of one Moodle site. The REST adapter over undici
 * implements it; resolvers see nothing else.
 */
export interface MoodleSite {
  readonly id: string;
  readonly url: string;
  getSiteInfo(options?: CallOptions): Promise<Result<SiteInfo>>;
  createPrivateFilesZip(username: string, options?: CallOptions): Promise<Result<ZipDescriptor>>;
  openDownload(relativepath: string, options?: CallOptions): Promise<Result<RemoteDownload>>;
}
