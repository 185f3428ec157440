import { emptyPrivateArea, MoodleWsError, WS_ERRORS } from '../moodle-errors.js';
import type { ProviderStore } from '../store/repository.js';
import { checkCapability } from '../token-check.js';
import type { BuildPrivateFilesZipOptions, PrivateFilesZipOutcome } from '../zip-builder.js';
import { wsErrorForTokenFailure } from './token-failure-errors.js';
import type { WsFunction } from './ws-function.js';

/** The version of block_my_external_privatefiles whose function the provider answers. */
export const PLUGIN_VERSION = '2023053000';

export interface GetPrivateFilesZipFunctionOptions {
  readonly store: ProviderStore;
  /** Builds the zip into the store (`buildPrivateFilesZip` from zip-builder.ts). */
  readonly buildZip: (options: BuildPrivateFilesZipOptions) => Promise<PrivateFilesZipOutcome>;
  /** Passed to every build (compression, size limit). */
  readonly zipOptions?: Pick<BuildPrivateFilesZipOptions, 'compression' | 'maxBytes'>;
}

/**
 * `block_my_external_privatefiles_get_private_files_zip(username)`: zips the user's private area into
 * a new draft item of the calling account and describes it. The username is matched exactly, as
 * Moodle does: `ALICE` or ` alice ` is an unknown user, never `alice`.
 */
export function createGetPrivateFilesZipFunction(options: GetPrivateFilesZipFunctionOptions): WsFunction {
  const { store, buildZip, zipOptions } = options;
  return {
    name: 'block_my_external_privatefiles_get_private_files_zip',
    version: PLUGIN_VERSION,
    async execute({ grant, params, lang, signal }) {
      const { username } = params;
      if (username === undefined) throw new MoodleWsError(WS_ERRORS.invalidparameter, 'username required');
      const missing = checkCapability(grant.user, 'canCreateDraftUserFilesForOtherUsers');
      if (missing) throw new MoodleWsError(wsErrorForTokenFailure(missing), missing.debuginfo);
      const user = await store.users.getByUsername(username);
      if (!user) throw new MoodleWsError(WS_ERRORS.invalidparameter, 'user with username not found');
      const outcome = await buildZip({ ...zipOptions, store, user, requestedBy: grant.user, signal });
      if (outcome.kind === 'empty-area') throw new MoodleWsError(emptyPrivateArea(lang));
      const { zip } = outcome;
      return {
        contextid: zip.contextid,
        component: 'user',
        filearea: 'draft',
        itemid: zip.itemid,
        filepath: zip.filepath,
        filename: zip.filename,
        relativepath: `/${zip.contextid}/user/draft/${zip.itemid}${zip.filepath}${zip.filename}`,
      };
    },
  };
}
