import { fail, ok, type Result, siteFailure } from '../moodle/failures.js';
import type { GatewayLoaders } from './loaders.js';
import type { SignedLinks } from './signed-links.js';
import type { ZipDescriptor } from './site.js';
import type { RegisteredSite } from './site-registry.js';
import { type ZipFileNameOptions, zipFileName } from './zip-file-name.js';

export const ZIP_FUNCTION = 'block_my_external_privatefiles_get_private_files_zip';

export interface PrivateFilesZip {
  readonly site: string;
  readonly username: string;
  /** The name the user sees and saves. */
  readonly filename: string;
  readonly downloadUrl: string;
  readonly expiresAt: Date;
  /** The draft file as the remote site described it. */
  readonly remote: ZipDescriptor;
}

export interface PrivateFilesDependencies {
  readonly links: SignedLinks;
  readonly fileName: ZipFileNameOptions;
  readonly now?: () => Date;
}

export interface ZipRequest {
  readonly entry: RegisteredSite;
  readonly username: string;
  readonly loaders: GatewayLoaders;
  /** Where callers reach this gateway, e.g. `https://gateway.example`. */
  readonly baseUrl: string;
}

export interface PrivateFiles {
  requestZip(request: ZipRequest): Promise<Result<PrivateFilesZip>>;
}

export function createPrivateFiles({
  links,
  fileName,
  now = () => new Date(),
}: PrivateFilesDependencies): PrivateFiles {
  return {
    async requestZip({ entry, username, loaders, baseUrl }) {
      const info = await loaders.siteInfo.load(entry);
      // Only a site that answered can tell us it lacks the function; otherwise the zip call speaks for itself.
      if (info.ok && !info.value.functions.some((fn) => fn.name === ZIP_FUNCTION)) {
        return fail(
          siteFailure(
            'FUNCTION_UNAVAILABLE',
            `${entry.id} does not offer ${ZIP_FUNCTION} to this gateway's token`,
          ),
        );
      }
      const zip = await loaders.privateFilesZip.load({ entry, username });
      if (!zip.ok) return zip;
      const siteName = info.ok ? info.value.sitename : (entry.name ?? entry.id);
      const filename = zipFileName(fileName, siteName, now());
      const { token, expiresAt } = await links.sign({
        tenant: entry.tenant,
        site: entry.id,
        username,
        relativepath: zip.value.relativepath,
        filename,
      });
      return ok({
        site: entry.id,
        username,
        filename,
        downloadUrl: `${baseUrl}/download/${token}`,
        expiresAt,
        remote: zip.value,
      });
    },
  };
}
