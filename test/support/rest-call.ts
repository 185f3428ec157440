import { request } from 'undici';

export interface RestAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** `JSON.parse(text)`; throws when the body is not JSON. */
  json(): unknown;
}

/**
 * Calls `webservice/rest/server.php` as a Moodle client does: a form-encoded POST (or a GET with
 * the same fields in the query string). `moodlewsrestformat` is left to the caller.
 */
export async function callRest(
  siteUrl: string,
  fields: Record<string, string>,
  options: { readonly method?: 'GET' | 'POST'; readonly headers?: Record<string, string> } = {},
): Promise<RestAnswer> {
  const { method = 'POST', headers = {} } = options;
  const form = new URLSearchParams(fields).toString();
  const url = `${siteUrl}/webservice/rest/server.php${method === 'GET' ? `?${form}` : ''}`;
  const response = await request(url, {
    method,
    headers:
      method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded', ...headers } : headers,
    body: method === 'POST' ? form : undefined,
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    text,
    json: () => JSON.parse(text) as unknown,
  };
}

export interface DownloadAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Header names in the order they came on the wire. */
  readonly headerNames: readonly string[];
  readonly body: Buffer;
}

/** GETs a path of the draft-file script (`relativepath` starts with `/`), the token in the query as Moodle wants it. */
export async function download(
  siteUrl: string,
  relativepath: string,
  token: string | undefined,
  headers: Record<string, string> = {},
): Promise<DownloadAnswer> {
  const query = token === undefined ? '' : `?token=${encodeURIComponent(token)}`;
  const url = `${siteUrl}/blocks/my_external_privatefiles/get_user_draft_file_webservice.php${relativepath}${query}`;
  const response = await request(url, { headers });
  const body = Buffer.from(await response.body.arrayBuffer());
  // undici fills the object in wire order.
  const headerNames = Object.keys(response.headers).map((name) => name.toLowerCase());
  return { status: response.statusCode, headers: response.headers, headerNames, body };
}
