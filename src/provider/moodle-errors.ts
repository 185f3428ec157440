/*
 * Every error the local provider sends, verbatim from a real Moodle 4.5 with
 * block_my_external_privatefiles 3.0.0 (see shared/MOODLE-PROTOCOL.md). One catalogue, shared by
 * the REST surface and the contract tests, so a message is never retyped.
 */

/** The body of a web-service error (`webservice/rest/server.php`): `{exception, errorcode?, message}`. */
export interface MoodleWsErrorBody {
  /** PHP class of the exception, e.g. `core\exception\moodle_exception`. */
  readonly exception: string;
  /** Absent for plain PHP exceptions (the plugin's "no file" `Exception`). */
  readonly errorcode?: string;
  readonly message: string;
}

/** The body of an error from a file-serving script: `{error, errorcode, stacktrace, debuginfo, reproductionlink}`. */
export interface MoodleDownloadErrorBody {
  readonly error: string;
  readonly errorcode: string;
  readonly stacktrace: null;
  /** `null` unless the provider runs in debug mode. */
  readonly debuginfo: string | null;
  readonly reproductionlink: null;
}

/** A web-service error, thrown by a function or the access checks and serialised by the REST route. */
export class MoodleWsError extends Error {
  override readonly name = 'MoodleWsError';
  readonly body: MoodleWsErrorBody;
  /**
   * The real reason, sent only when the provider runs in debug mode (Moodle's `debuginfo`); it must
   * never hold a token or a secret.
   */
  readonly debuginfo: string | undefined;
  constructor(body: MoodleWsErrorBody, debuginfo?: string) {
    super(body.message);
    this.body = body;
    this.debuginfo = debuginfo;
  }
}

/** A download error; `statusCode` is 200 for all but a missing file, as Moodle answers. */
export class MoodleDownloadError extends Error {
  override readonly name = 'MoodleDownloadError';
  readonly errorcode: string;
  readonly statusCode: number;
  readonly debuginfo: string | undefined;
  constructor(definition: DownloadErrorDefinition, debuginfo?: string) {
    super(definition.error);
    this.errorcode = definition.errorcode;
    this.statusCode = definition.statusCode;
    this.debuginfo = debuginfo;
  }
}

export interface DownloadErrorDefinition {
  readonly error: string;
  readonly errorcode: string;
  readonly statusCode: number;
}

const MOODLE_EXCEPTION = 'core\\exception\\moodle_exception';

/** Web-service errors whose text never varies. Keys are Moodle's error codes (plus a qualifier where one code has several messages). */
export const WS_ERRORS = {
  invalidtoken: {
    exception: MOODLE_EXCEPTION,
    errorcode: 'invalidtoken',
    message: 'Invalid token - token not found',
  },
  invalidparameter: {
    exception: 'core\\exception\\invalid_parameter_exception',
    errorcode: 'invalidparameter',
    message: 'Invalid parameter value detected',
  },
  /** An unknown `wsfunction`. */
  invalidrecord: {
    exception: 'dml_missing_record_exception',
    errorcode: 'invalidrecord',
    message: "Can't find data record in database table external_functions.",
  },
  accessexception: {
    exception: 'webservice_access_exception',
    errorcode: 'accessexception',
    message: 'Access control exception',
  },
  /** Missing `block/my_external_privatefiles:can_create_draftuserfiles_for_other_users`. */
  nopermissionsCreateDraft: {
    exception: 'core\\exception\\required_capability_exception',
    errorcode: 'nopermissions',
    message:
      'Sorry, but you do not currently have permissions to do that (Create draft user files for other users).',
  },
  /** Missing `block/my_external_privatefiles:can_retrieve_files_from_other_users`. */
  nopermissionsRetrieveFiles: {
    exception: 'core\\exception\\required_capability_exception',
    errorcode: 'nopermissions',
    message: 'Sorry, but you do not currently have permissions to do that (retrieve file from other users).',
  },
  /** Maintenance mode switched on from the admin pages. */
  sitemaintenance: {
    exception: MOODLE_EXCEPTION,
    errorcode: 'sitemaintenance',
    message: 'The site is undergoing maintenance and is currently not available',
  },
  /**
   * Not observed on a real Moodle: what the provider answers when something unexpected breaks (the
   * real reason goes to the log only). Shaped like Moodle's generic exception so clients treat it
   * as a remote error.
   */
  unexpected: {
    exception: MOODLE_EXCEPTION,
    errorcode: 'generalexceptionmessage',
    message: 'Exception - An unexpected error occurred',
  },
} as const satisfies Record<string, MoodleWsErrorBody>;

export type WsErrorKey = keyof typeof WS_ERRORS;

/** `Refused web service access for suspended username: {username}`. */
export function wsAccessUserSuspended(username: string): MoodleWsErrorBody {
  return {
    exception: MOODLE_EXCEPTION,
    errorcode: 'wsaccessusersuspended',
    message: `Refused web service access for suspended username: ${username}`,
  };
}

/** The plugin's language string `nofilefound`, by language; English is the fallback. */
export const EMPTY_PRIVATE_AREA_MESSAGES: Readonly<Record<string, string>> = {
  en: 'No file found in your private file area',
  fr: 'Pas de fichiers dans votre zone privée',
};

/** Languages the provider has strings for. */
export const PROVIDER_LANGUAGES: readonly string[] = Object.keys(EMPTY_PRIVATE_AREA_MESSAGES);

/** The plugin throws a bare PHP `Exception`: no `errorcode`. */
export function emptyPrivateArea(lang: string): MoodleWsErrorBody {
  return {
    exception: 'Exception',
    message: EMPTY_PRIVATE_AREA_MESSAGES[baseLanguage(lang)] ?? EMPTY_PRIVATE_AREA_MESSAGES.en ?? '',
  };
}

/** `fr_ca` → `fr`, as Moodle falls back to a parent language pack. */
function baseLanguage(lang: string): string {
  const lower = lang.toLowerCase();
  return lower in EMPTY_PRIVATE_AREA_MESSAGES ? lower : (lower.split(/[_-]/)[0] ?? lower);
}

/** Errors of the file-serving script (`get_user_draft_file_webservice.php`). */
export const DOWNLOAD_ERRORS = {
  invalidtoken: { error: 'Invalid token - token not found', errorcode: 'invalidtoken', statusCode: 200 },
  missingparam: {
    error: 'A required parameter (token) was missing',
    errorcode: 'missingparam',
    statusCode: 200,
  },
  invalidarguments: { error: 'No valid arguments supplied', errorcode: 'invalidarguments', statusCode: 200 },
  nopermissions: {
    error: 'Sorry, but you do not currently have permissions to do that (retrieve file from other users).',
    errorcode: 'nopermissions',
    statusCode: 200,
  },
  filenotfound: {
    error: 'Sorry, the requested file could not be found',
    errorcode: 'filenotfound',
    statusCode: 404,
  },
  accessexception: { error: 'Access control exception', errorcode: 'accessexception', statusCode: 200 },
  // The script throws it without a language string, so Moodle prints `{module}/{errorcode}`.
  wsaccessusersuspended: {
    error: 'error/wsaccessusersuspended',
    errorcode: 'wsaccessusersuspended',
    statusCode: 200,
  },
  sitemaintenance: {
    error: 'The site is undergoing maintenance and is currently not available',
    errorcode: 'sitemaintenance',
    statusCode: 200,
  },
  /** Not observed: the provider's answer when reading the file breaks before a byte is sent. */
  unexpected: {
    error: 'Exception - An unexpected error occurred',
    errorcode: 'generalexceptionmessage',
    statusCode: 200,
  },
} as const satisfies Record<string, DownloadErrorDefinition>;

export type DownloadErrorKey = keyof typeof DOWNLOAD_ERRORS;

/** The JSON body, keys in Moodle's order; `debuginfo` is filled only in debug mode. */
export function downloadErrorBody(
  error: { readonly message: string; readonly errorcode: string; readonly debuginfo?: string | undefined },
  debug = false,
): MoodleDownloadErrorBody {
  return {
    error: error.message,
    errorcode: error.errorcode,
    stacktrace: null,
    debuginfo: debug && error.debuginfo ? error.debuginfo : null,
    reproductionlink: null,
  };
}

/** The page Moodle's CLI maintenance mode answers with HTTP 503 (`Retry-After: 300`). */
export const CLI_MAINTENANCE_PAGE =
  '<!DOCTYPE html>\n<html><head><title>Maintenance</title></head>' +
  '<body><h1>The site is undergoing maintenance and is currently not available</h1></body></html>\n';

/** Seconds Moodle tells clients to wait during CLI maintenance. */
export const CLI_MAINTENANCE_RETRY_AFTER_SECONDS = 300;
