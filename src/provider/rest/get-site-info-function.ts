import { createHash } from 'node:crypto';
import type { WsFunction } from './ws-function.js';

export const MOODLE_RELEASE = '4.5 (Build: 20241007)';
export const MOODLE_VERSION = '2024100700';

// The advanced features of a default Moodle 4.5, as its site info lists them.
const ADVANCED_FEATURES = [
  { name: 'usecomments', value: 1 },
  { name: 'usetags', value: 1 },
  { name: 'enablenotes', value: 1 },
  { name: 'messaging', value: 1 },
  { name: 'enableblogs', value: 1 },
  { name: 'enablecompletion', value: 1 },
  { name: 'enablebadges', value: 1 },
  { name: 'messagingallusers', value: 0 },
  { name: 'enablecustomreports', value: 1 },
  { name: 'enableglobalsearch', value: 0 },
  { name: 'mnet_dispatcher_mode', value: 0 },
  { name: 'enablecompetencies', value: 1 },
] as const;

// A theme revision: the picture URL only has to look like Moodle's, the provider serves no images.
const THEME_REVISION = '1795303220';

export interface GetSiteInfoFunctionOptions {
  /** The site's full name (`sitename`). */
  readonly siteName: string;
  /** Every function the provider answers, by name → version, to list the service's ones. */
  readonly functionVersions: ReadonlyMap<string, string>;
  /** @default 104857600 (100 MB, Moodle's default) */
  readonly userQuota?: number;
  /** @default 67108864 (64 MB) */
  readonly maxUploadFileSize?: number;
}

/**
 * `core_webservice_get_site_info`: Moodle's field set in Moodle's order. Optional fields a default
 * site leaves out of JSON (`userhomepageurl`, `usersessionscount`) are `undefined`, so the XML form
 * still carries them as null, as Moodle's does.
 */
export function createGetSiteInfoFunction(options: GetSiteInfoFunctionOptions): WsFunction {
  const { siteName, functionVersions, userQuota = 104_857_600, maxUploadFileSize = 67_108_864 } = options;
  return {
    name: 'core_webservice_get_site_info',
    version: MOODLE_VERSION,
    async execute({ grant, siteUrl, lang }) {
      const { user, service, token } = grant;
      const functions = service.functions
        .filter((name) => functionVersions.has(name))
        .sort()
        .map((name) => ({ name, version: functionVersions.get(name) ?? MOODLE_VERSION }));
      return {
        sitename: siteName,
        username: user.username,
        firstname: user.firstname,
        lastname: user.lastname,
        fullname: `${user.firstname} ${user.lastname}`,
        lang,
        userid: user.id,
        siteurl: siteUrl,
        userpictureurl: `${siteUrl}/theme/image.php/boost/core/${THEME_REVISION}/u/f1`,
        functions,
        downloadfiles: service.downloadFiles ? 1 : 0,
        uploadfiles: service.uploadFiles ? 1 : 0,
        release: MOODLE_RELEASE,
        version: MOODLE_VERSION,
        mobilecssurl: '',
        advancedfeatures: ADVANCED_FEATURES,
        usercanmanageownfiles: true,
        userquota: userQuota,
        usermaxuploadfilesize: maxUploadFileSize,
        userhomepage: 1,
        userhomepageurl: undefined,
        // Moodle's key opens the account's files to whoever holds it; the provider has no use for
        // one, so it derives an opaque stand-in that reveals nothing about the token.
        userprivateaccesskey: createHash('sha256')
          .update(`userprivateaccesskey:${token.tokenHash}`)
          .digest('hex')
          .slice(0, 32),
        siteid: 1,
        sitecalendartype: 'gregorian',
        usercalendartype: 'gregorian',
        userissiteadmin: false,
        theme: 'boost',
        limitconcurrentlogins: 0,
        usersessionscount: undefined,
        policyagreed: 0,
      };
    },
  };
}
