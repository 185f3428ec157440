/*
 * What a real Moodle 4.5 with block_my_external_privatefiles 3.0.0 answered, verbatim from
 * shared/MOODLE-PROTOCOL.md (tokens replaced). The provider's contract tests hold its answers
 * against these; nothing here is derived from the provider's own code.
 */

/** REST bodies (`webservice/rest/server.php`, `moodlewsrestformat=json`), all sent with HTTP 200. */
export const recordedRest = {
  siteInfo: String.raw`{"sitename":"Peer Moodle 4.5","username":"block_my_external_privatefiles_user","firstname":"wsuser","lastname":"block_my_external_privatefiles_user","fullname":"wsuser block_my_external_privatefiles_user","lang":"en","userid":3,"siteurl":"http:\/\/127.0.0.1:8081","userpictureurl":"http:\/\/127.0.0.1:8081\/theme\/image.php\/boost\/core\/1795303220\/u\/f1","functions":[{"name":"block_my_external_privatefiles_get_private_files_zip","version":"2023053000"},{"name":"core_webservice_get_site_info","version":"2024100700"}],"downloadfiles":1,"uploadfiles":0,"release":"4.5 (Build: 20241007)","version":"2024100700","mobilecssurl":"","advancedfeatures":[{"name":"usecomments","value":1},{"name":"usetags","value":1},{"name":"enablenotes","value":1},{"name":"messaging","value":1},{"name":"enableblogs","value":1},{"name":"enablecompletion","value":1},{"name":"enablebadges","value":1},{"name":"messagingallusers","value":0},{"name":"enablecustomreports","value":1},{"name":"enableglobalsearch","value":0},{"name":"mnet_dispatcher_mode","value":0},{"name":"enablecompetencies","value":1}],"usercanmanageownfiles":true,"userquota":104857600,"usermaxuploadfilesize":67108864,"userhomepage":1,"userprivateaccesskey":"251af9f2e88f83959e323352be034588","siteid":1,"sitecalendartype":"gregorian","usercalendartype":"gregorian","userissiteadmin":false,"theme":"boost","limitconcurrentlogins":0,"policyagreed":0}`,
  privateFilesZip: String.raw`{"contextid":12,"component":"user","filearea":"draft","itemid":451539184,"filepath":"\/","filename":"myprivatefiles.zip","relativepath":"\/12\/user\/draft\/451539184\/myprivatefiles.zip"}`,
  invalidtoken: String.raw`{"exception":"core\\exception\\moodle_exception","errorcode":"invalidtoken","message":"Invalid token - token not found"}`,
  invalidparameter: String.raw`{"exception":"core\\exception\\invalid_parameter_exception","errorcode":"invalidparameter","message":"Invalid parameter value detected"}`,
  emptyAreaEnglish: '{"exception":"Exception","message":"No file found in your private file area"}',
  emptyAreaFrench: '{"exception":"Exception","message":"Pas de fichiers dans votre zone privée"}',
  invalidrecord: `{"exception":"dml_missing_record_exception","errorcode":"invalidrecord","message":"Can't find data record in database table external_functions."}`,
  accessexception:
    '{"exception":"webservice_access_exception","errorcode":"accessexception","message":"Access control exception"}',
  nopermissions: String.raw`{"exception":"core\\exception\\required_capability_exception","errorcode":"nopermissions","message":"Sorry, but you do not currently have permissions to do that (Create draft user files for other users)."}`,
  /** The suspended account was `wssusp`. */
  wsaccessusersuspended: String.raw`{"exception":"core\\exception\\moodle_exception","errorcode":"wsaccessusersuspended","message":"Refused web service access for suspended username: wssusp"}`,
  sitemaintenance: String.raw`{"exception":"core\\exception\\moodle_exception","errorcode":"sitemaintenance","message":"The site is undergoing maintenance and is currently not available"}`,
} as const;

export const recordedRestHeaders = {
  json: {
    'content-type': 'application/json',
    'cache-control': 'private, must-revalidate, pre-check=0, post-check=0, max-age=0',
    'access-control-allow-origin': '*',
  },
  xml: {
    'content-type': 'application/xml; charset=utf-8',
    'content-disposition': 'inline; filename="response.xml"',
    'cache-control': 'private, must-revalidate, pre-check=0, post-check=0, max-age=0',
    'access-control-allow-origin': '*',
  },
} as const;

/** XML answers (no `moodlewsrestformat`). */
export const recordedXml = {
  invalidparameter: `<?xml version="1.0" encoding="UTF-8" ?>
<EXCEPTION class="core\\exception\\invalid_parameter_exception">
<ERRORCODE>invalidparameter</ERRORCODE>
<MESSAGE>Invalid parameter value detected</MESSAGE>
</EXCEPTION>
`,
  privateFilesZip: `<?xml version="1.0" encoding="UTF-8" ?>
<RESPONSE>
<SINGLE>
<KEY name="contextid"><VALUE>12</VALUE>
</KEY>
<KEY name="component"><VALUE>user</VALUE>
</KEY>
<KEY name="filearea"><VALUE>draft</VALUE>
</KEY>
<KEY name="itemid"><VALUE>506543127</VALUE>
</KEY>
<KEY name="filepath"><VALUE>/</VALUE>
</KEY>
<KEY name="filename"><VALUE>myprivatefiles.zip</VALUE>
</KEY>
<KEY name="relativepath"><VALUE>/12/user/draft/506543127/myprivatefiles.zip</VALUE>
</KEY>
</SINGLE>
</RESPONSE>
`,
} as const;

/** The zip download's headers, in the order Moodle sent them. */
export const recordedDownloadHeaders: readonly (readonly [string, string])[] = [
  ['Content-Disposition', 'attachment; filename="myprivatefiles.zip"'],
  ['Cache-Control', 'private, must-revalidate, pre-check=0, post-check=0, max-age=0, no-transform'],
  ['Expires', 'Thu, 01 Jan 1970 00:00:00 GMT'],
  ['Pragma', 'no-cache'],
  ['Content-Type', 'application/zip'],
  ['Etag', '"2b7d82972a39ef00d2a3d16f89be9ed6f7b9b379"'],
  ['Accept-Ranges', 'bytes'],
  ['Last-Modified', 'Sat, 21 Nov 2026 23:21:10 GMT'],
  ['Content-Length', '5244387'],
];

/** Download errors (`application/json; charset=utf-8`) with their HTTP status. */
export const recordedDownloadErrors = {
  invalidtoken: {
    status: 200,
    body: '{"error":"Invalid token - token not found","errorcode":"invalidtoken","stacktrace":null,"debuginfo":null,"reproductionlink":null}',
  },
  missingparam: {
    status: 200,
    body: '{"error":"A required parameter (token) was missing","errorcode":"missingparam","stacktrace":null,"debuginfo":null,"reproductionlink":null}',
  },
  invalidarguments: {
    status: 200,
    body: '{"error":"No valid arguments supplied","errorcode":"invalidarguments","stacktrace":null,"debuginfo":null,"reproductionlink":null}',
  },
  nopermissions: {
    status: 200,
    body: '{"error":"Sorry, but you do not currently have permissions to do that (retrieve file from other users).","errorcode":"nopermissions","stacktrace":null,"debuginfo":null,"reproductionlink":null}',
  },
  filenotfound: {
    status: 404,
    body: '{"error":"Sorry, the requested file could not be found","errorcode":"filenotfound","stacktrace":null,"debuginfo":null,"reproductionlink":null}',
  },
  // The two below are described, not quoted, in the record: its download table gives the codes.
  accessexception: {
    status: 200,
    body: '{"error":"Access control exception","errorcode":"accessexception","stacktrace":null,"debuginfo":null,"reproductionlink":null}',
  },
  wsaccessusersuspended: {
    status: 200,
    body: String.raw`{"error":"error\/wsaccessusersuspended","errorcode":"wsaccessusersuspended","stacktrace":null,"debuginfo":null,"reproductionlink":null}`,
  },
} as const;

/** The structure of a JSON value: keys in order with their types, recursively; lists by their first item. */
export type Shape = string | readonly Shape[] | { readonly [key: string]: Shape };

export function shapeOf(value: unknown): Shape {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0])];
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, shapeOf(member)]));
  }
  return typeof value;
}

/** Keys of an object in order, recursively (`functions[].name`), so a test can compare order too. */
export function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.length === 0 ? [] : keyPaths(value[0], `${prefix}[]`);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, member]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    return [path, ...keyPaths(member, path)];
  });
}
