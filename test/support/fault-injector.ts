import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOnLoopback } from './loopback-server.js';

/**
 * A misbehaving Moodle on 127.0.0.1: a real HTTP server whose answers tests choose, so the client's
 * real sockets, parsing and timeouts run. It records every request it receives.
 */

/** Verbatim bodies of a real Moodle 4.5 REST server (MOODLE-PROTOCOL.md), errors all sent with HTTP 200. */
export const moodleBodies = {
  siteInfo: String.raw`{"sitename":"Peer Moodle 4.5","username":"block_my_external_privatefiles_user","firstname":"wsuser","lastname":"block_my_external_privatefiles_user","fullname":"wsuser block_my_external_privatefiles_user","lang":"en","userid":3,"siteurl":"http:\/\/127.0.0.1:8081","userpictureurl":"http:\/\/127.0.0.1:8081\/theme\/image.php\/boost\/core\/1795303220\/u\/f1","functions":[{"name":"block_my_external_privatefiles_get_private_files_zip","version":"2023053000"},{"name":"core_webservice_get_site_info","version":"2024100700"}],"downloadfiles":1,"uploadfiles":0,"release":"4.5 (Build: 20241007)","version":"2024100700","mobilecssurl":"","advancedfeatures":[{"name":"usecomments","value":1},{"name":"usetags","value":1},{"name":"enablenotes","value":1},{"name":"messaging","value":1},{"name":"enableblogs","value":1},{"name":"enablecompletion","value":1},{"name":"enablebadges","value":1},{"name":"messagingallusers","value":0},{"name":"enablecustomreports","value":1},{"name":"enableglobalsearch","value":0},{"name":"mnet_dispatcher_mode","value":0},{"name":"enablecompetencies","value":1}],"usercanmanageownfiles":true,"userquota":104857600,"usermaxuploadfilesize":67108864,"userhomepage":1,"userprivateaccesskey":"251af9f2e88f83959e323352be034588","siteid":1,"sitecalendartype":"gregorian","usercalendartype":"gregorian","userissiteadmin":false,"theme":"boost","limitconcurrentlogins":0,"policyagreed":0}`,
  privateFilesZip: String.raw`{"contextid":12,"component":"user","filearea":"draft","itemid":451539184,"filepath":"\/","filename":"myprivatefiles.zip","relativepath":"\/12\/user\/draft\/451539184\/myprivatefiles.zip"}`,
  invalidToken: String.raw`{"exception":"core\\exception\\moodle_exception","errorcode":"invalidtoken","message":"Invalid token - token not found"}`,
  invalidParameter: String.raw`{"exception":"core\\exception\\invalid_parameter_exception","errorcode":"invalidparameter","message":"Invalid parameter value detected"}`,
  noFilesEnglish: `{"exception":"Exception","message":"No file found in your private file area"}`,
  noFilesFrench: `{"exception":"Exception","message":"Pas de fichiers dans votre zone privée"}`,
  functionNotFound: `{"exception":"dml_missing_record_exception","errorcode":"invalidrecord","message":"Can't find data record in database table external_functions."}`,
  courseNotFound: `{"exception":"dml_missing_record_exception","errorcode":"invalidrecord","message":"Can't find data record in database table course."}`,
  accessException: `{"exception":"webservice_access_exception","errorcode":"accessexception","message":"Access control exception"}`,
  noPermissions: String.raw`{"exception":"core\\exception\\required_capability_exception","errorcode":"nopermissions","message":"Sorry, but you do not currently have permissions to do that (Create draft user files for other users)."}`,
  userSuspended: String.raw`{"exception":"core\\exception\\moodle_exception","errorcode":"wsaccessusersuspended","message":"Refused web service access for suspended username: wssusp"}`,
  siteMaintenance: String.raw`{"exception":"core\\exception\\moodle_exception","errorcode":"sitemaintenance","message":"The site is undergoing maintenance and is currently not available"}`,
  // Not in the observed record; built the way Moodle builds a require_login_exception.
  requireLogin: String.raw`{"exception":"core\\exception\\require_login_exception","errorcode":"requireloginerror","message":"Course or activity not accessible. (You are not logged in)"}`,
  cannotAssignRole: String.raw`{"exception":"core\\exception\\moodle_exception","errorcode":"wsusercannotassign","message":"You don't have the permission to assign this role (1) to this user (11) in this course (3)."}`,
  typeError: String.raw`{"exception":"TypeError","message":"core\\user::get_name_placeholders(): Argument #1 ($user) must be of type stdClass, bool given, called in /…/lib/enrollib.php on line 3674"}`,
  invalidParameterWithDebug: String.raw`{"exception":"core\\exception\\invalid_parameter_exception","errorcode":"invalidparameter","message":"Invalid parameter value detected","debuginfo":"user with username not found"}`,
} as const;

/** Verbatim bodies of the plugin's download script (`application/json; charset=utf-8`). */
export const downloadErrorBodies = {
  invalidToken: `{"error":"Invalid token - token not found","errorcode":"invalidtoken","stacktrace":null,"debuginfo":null,"reproductionlink":null}`,
  missingParam: `{"error":"A required parameter (token) was missing","errorcode":"missingparam","stacktrace":null,"debuginfo":null,"reproductionlink":null}`,
  invalidArguments: `{"error":"No valid arguments supplied","errorcode":"invalidarguments","stacktrace":null,"debuginfo":null,"reproductionlink":null}`,
  noPermissions: `{"error":"Sorry, but you do not currently have permissions to do that (retrieve file from other users).","errorcode":"nopermissions","stacktrace":null,"debuginfo":null,"reproductionlink":null}`,
  /** Sent with HTTP 404. */
  fileNotFound: `{"error":"Sorry, the requested file could not be found","errorcode":"filenotfound","stacktrace":null,"debuginfo":null,"reproductionlink":null}`,
  accessException: `{"error":"Access control exception","errorcode":"accessexception","stacktrace":null,"debuginfo":null,"reproductionlink":null}`,
  userSuspended: String.raw`{"error":"error\/wsaccessusersuspended","errorcode":"wsaccessusersuspended","stacktrace":null,"debuginfo":null,"reproductionlink":null}`,
} as const;

const REST_HEADERS: OutgoingHttpHeaders = {
  'Content-type': 'application/json',
  'Cache-Control': 'private, must-revalidate, pre-check=0, post-check=0, max-age=0',
  'Access-Control-Allow-Origin': '*',
};

export type Behaviour =
  /**
   * Answers exactly this; `chunked` sends the body in pieces without a Content-Length; `delayMs`
   * waits that long before answering (a slow but healthy site).
   */
  | {
      readonly kind: 'answer';
      readonly status?: number;
      readonly headers?: OutgoingHttpHeaders;
      readonly body?: string | Buffer;
      readonly chunked?: boolean;
      readonly delayMs?: number;
    }
  /** Accepts the request and never answers. */
  | { readonly kind: 'never-answer' }
  /** Resets the connection (TCP RST) as soon as the request arrived, before any byte of an answer. */
  | { readonly kind: 'hang-up' }
  /**
   * Streams a JSON document of `bytes` bytes as fast as the client reads it (with backpressure, so
   * the injector never holds it), announcing its length when `declareLength`.
   */
  | { readonly kind: 'flood'; readonly bytes: number; readonly declareLength?: boolean }
  /** Sends `body` (with its Content-Length) `chunkBytes` at a time, one piece every `intervalMs`. */
  | {
      readonly kind: 'trickle-body';
      readonly headers?: OutgoingHttpHeaders;
      readonly body: Buffer;
      readonly chunkBytes: number;
      readonly intervalMs: number;
    }
  /** Sends the headers (and `body`, if any) then nothing more. */
  | {
      readonly kind: 'stall-after-headers';
      readonly status?: number;
      readonly headers?: OutgoingHttpHeaders;
      readonly body?: string | Buffer;
    }
  /** Sends the headers and `body`, then resets the connection (TCP RST). */
  | {
      readonly kind: 'reset-mid-body';
      readonly headers?: OutgoingHttpHeaders;
      readonly body: string | Buffer;
    }
  /** Declares `declaredLength`, sends the shorter `body`, then closes the connection. */
  | {
      readonly kind: 'short-body';
      readonly headers?: OutgoingHttpHeaders;
      readonly body: string | Buffer;
      readonly declaredLength: number;
    }
  /** Sends `chunk` every `intervalMs`, `count` times (forever when `Infinity`), with a Content-Length when finite. */
  | {
      readonly kind: 'trickle';
      readonly headers?: OutgoingHttpHeaders;
      readonly chunk: string | Buffer;
      readonly count: number;
      readonly intervalMs: number;
    };

export const behaviours = {
  /** A REST answer with Moodle's own headers (Moodle answers 200 for its errors too). */
  moodle: (body: string): Behaviour => ({ kind: 'answer', status: 200, headers: REST_HEADERS, body }),
  /** A download script error (JSON), 200 unless told. */
  downloadError: (body: string, status = 200): Behaviour => ({
    kind: 'answer',
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    body,
  }),
  /** A zip download with the plugin's headers (verbatim but for the length). */
  zip: (bytes: Buffer): Behaviour => ({
    kind: 'answer',
    status: 200,
    headers: zipHeaders(bytes.length),
    body: bytes,
  }),
  html: (
    status: number,
    body = '<!DOCTYPE html><html><head><title>Error</title></head><body>Oops</body></html>',
  ): Behaviour => ({
    kind: 'answer',
    status,
    headers: { 'Content-Type': 'text/html; charset=utf-8' },
    body,
  }),
  /** Moodle in CLI maintenance mode. */
  maintenance: (retryAfterSeconds = 300): Behaviour => ({
    kind: 'answer',
    status: 503,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Retry-After': String(retryAfterSeconds) },
    body: '<!DOCTYPE html><html><head><title>Maintenance</title></head><body>Site is being upgraded, please retry later.</body></html>',
  }),
  /** Web services disabled: an empty 403. */
  webServicesDisabled: (): Behaviour => ({
    kind: 'answer',
    status: 403,
    headers: { 'Content-Type': 'text/html; charset=utf-8' },
    body: '',
  }),
  invalidJson: (): Behaviour => ({
    kind: 'answer',
    status: 200,
    headers: REST_HEADERS,
    body: 'Notice: undefined index',
  }),
  truncatedJson: (): Behaviour => ({
    kind: 'answer',
    status: 200,
    headers: REST_HEADERS,
    body: moodleBodies.siteInfo.slice(0, 120),
  }),
  /** A valid JSON document of about `bytes` bytes. */
  hugeJson: (bytes: number, chunked = false): Behaviour => ({
    kind: 'answer',
    status: 200,
    headers: REST_HEADERS,
    body: `{"padding":"${'x'.repeat(Math.max(0, bytes - 14))}"}`,
    chunked,
  }),
  neverAnswer: (): Behaviour => ({ kind: 'never-answer' }),
  /** A site answering `body` as a REST answer after `delayMs`: slow, but healthy. */
  slowMoodle: (body: string, delayMs: number): Behaviour => ({
    kind: 'answer',
    status: 200,
    headers: REST_HEADERS,
    body,
    delayMs,
  }),
  /** A redirect to the very path asked for: a client following redirects would never stop. */
  redirectLoop: (path = '/webservice/rest/server.php'): Behaviour => ({
    kind: 'answer',
    status: 302,
    headers: { Location: path, 'Content-Type': 'text/html; charset=utf-8' },
    body: '',
  }),
  /** Too Many Requests, with a Retry-After when given. */
  tooManyRequests: (retryAfterSeconds?: number): Behaviour => ({
    kind: 'answer',
    status: 429,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      ...(retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) }),
    },
    body: '<!DOCTYPE html><html><head><title>429 Too Many Requests</title></head><body></body></html>',
  }),
  /** A JSON body of `bytes` bytes (50 MB and more), streamed rather than held. */
  floodJson: (bytes: number, declareLength = false): Behaviour => ({ kind: 'flood', bytes, declareLength }),
  /** REST JSON sent at about `bytesPerSecond` (in 8 pieces a second), never finishing. */
  trickleJson: (bytesPerSecond: number): Behaviour => ({
    kind: 'trickle',
    headers: REST_HEADERS,
    // JSON allows leading whitespace, so every piece keeps the body a valid beginning of a document.
    chunk: ' '.repeat(Math.max(1, Math.round(bytesPerSecond / 8))),
    count: Infinity,
    intervalMs: 125,
  }),
  /** A zip download sent at about `bytesPerSecond` (in 8 pieces a second). */
  trickleZip: (bytes: Buffer, bytesPerSecond: number): Behaviour => ({
    kind: 'trickle-body',
    headers: zipHeaders(),
    body: bytes,
    chunkBytes: Math.max(1, Math.round(bytesPerSecond / 8)),
    intervalMs: 125,
  }),
  hangUp: (): Behaviour => ({ kind: 'hang-up' }),
} as const;

/** A local file header's signature: how every zip begins. */
export const ZIP_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** `length` bytes that begin like a zip, for tests that only stream them. */
export function zipLikeBytes(length: number, fill = 0): Buffer {
  const bytes = Buffer.alloc(length, fill);
  ZIP_SIGNATURE.copy(bytes, 0, 0, Math.min(length, ZIP_SIGNATURE.length));
  return bytes;
}

/** The plugin's download headers (verbatim but for the length; no Content-Length when `length` is not given). */
export function zipHeaders(length?: number): OutgoingHttpHeaders {
  return {
    'Content-Disposition': 'attachment; filename="myprivatefiles.zip"',
    'Cache-Control': 'private, must-revalidate, pre-check=0, post-check=0, max-age=0, no-transform',
    Expires: 'Thu, 01 Jan 1970 00:00:00 GMT',
    Pragma: 'no-cache',
    'Content-Type': 'application/zip',
    Etag: '"2b7d82972a39ef00d2a3d16f89be9ed6f7b9b379"',
    'Accept-Ranges': 'bytes',
    'Last-Modified': 'Sat, 21 Nov 2026 23:21:10 GMT',
    ...(length === undefined ? {} : { 'Content-Length': String(length) }),
  };
}

export interface RecordedRequest {
  readonly method: string;
  /** The path without its query string. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  /** The client's port: requests on one keep-alive connection share it. */
  readonly remotePort: number;
  /** The URL-encoded fields of the body (`users[0][username]` kept as one name). */
  readonly form: Readonly<Record<string, string>>;
  readonly body: string;
  /** Settles when the exchange ends; `complete` is false when the connection closed before the answer ended. */
  readonly closed: Promise<{ readonly complete: boolean }>;
}

export type BehaviourChoice = Behaviour | ((request: RecordedRequest) => Behaviour);

export interface FaultInjector {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every request received, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** What to answer from now on: one behaviour, or one chosen per request (per route). */
  setBehaviour(choice: BehaviourChoice): void;
  /** Resolves with the next request that arrives. */
  nextRequest(): Promise<RecordedRequest>;
  /** Connections currently open. */
  openConnections(): number;
  /** Destroys open sockets, so nothing hangs, and stops listening. */
  close(): Promise<void>;
}

export async function startFaultInjector(initial?: BehaviourChoice): Promise<FaultInjector> {
  let choice: BehaviourChoice = initial ?? {
    kind: 'answer',
    status: 500,
    headers: { 'Content-Type': 'text/plain' },
    body: 'fault injector: no behaviour set',
  };
  const requests: RecordedRequest[] = [];
  const waiting: ((request: RecordedRequest) => void)[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      remotePort: req.socket.remotePort ?? 0,
      form: isForm ? Object.fromEntries(new URLSearchParams(body)) : {},
      body,
      closed: new Promise((resolve) => {
        res.once('close', () => resolve({ complete: res.writableFinished }));
      }),
    };
    requests.push(recorded);
    waiting.splice(0).forEach((resolve) => {
      resolve(recorded);
    });
    const behaviour = typeof choice === 'function' ? choice(recorded) : choice;
    play(behaviour, req, res, timers);
  });
  const listening = await listenOnLoopback(server);

  return {
    url: listening.url,
    requests,
    setBehaviour(next) {
      choice = next;
    },
    nextRequest() {
      return new Promise((resolve) => waiting.push(resolve));
    },
    openConnections: listening.openConnections,
    async close() {
      for (const timer of timers) {
        clearInterval(timer);
      }
      await listening.close();
    },
  };
}

/** A URL on 127.0.0.1 where nothing listens (the port was just free). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function play(
  behaviour: Behaviour,
  req: IncomingMessage,
  res: ServerResponse,
  timers: Set<NodeJS.Timeout>,
): void {
  switch (behaviour.kind) {
    case 'answer': {
      if (behaviour.delayMs !== undefined && behaviour.delayMs > 0) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          play({ ...behaviour, delayMs: 0 }, req, res, timers);
        }, behaviour.delayMs);
        timers.add(timer);
        res.once('close', () => {
          clearTimeout(timer);
          timers.delete(timer);
        });
        return;
      }
      const body = Buffer.from(behaviour.body ?? '');
      res.writeHead(behaviour.status ?? 200, behaviour.headers ?? {});
      if (!behaviour.chunked) {
        res.end(body);
        return;
      }
      for (let start = 0; start < body.length; start += 16 * 1024) {
        res.write(body.subarray(start, start + 16 * 1024));
      }
      res.end();
      return;
    }
    case 'never-answer':
      return;
    case 'hang-up':
      req.socket.resetAndDestroy();
      return;
    case 'flood': {
      const { bytes, declareLength = false } = behaviour;
      res.writeHead(200, {
        ...REST_HEADERS,
        ...(declareLength ? { 'Content-Length': String(bytes) } : {}),
      });
      const opening = Buffer.from('{"padding":"');
      const closing = Buffer.from('"}');
      const filler = Buffer.alloc(64 * 1024, 0x78);
      let left = bytes - opening.length - closing.length;
      res.write(opening);
      const pump = () => {
        while (left > 0 && !res.destroyed) {
          const piece = filler.subarray(0, Math.min(filler.length, left));
          left -= piece.length;
          if (!res.write(piece)) {
            res.once('drain', pump);
            return;
          }
        }
        if (!res.destroyed) res.end(closing);
      };
      pump();
      return;
    }
    case 'trickle-body': {
      const { body, chunkBytes, intervalMs } = behaviour;
      res.writeHead(200, { ...behaviour.headers, 'Content-Length': String(body.length) });
      res.flushHeaders();
      let sent = 0;
      const timer = setInterval(() => {
        const piece = body.subarray(sent, sent + chunkBytes);
        sent += piece.length;
        if (sent >= body.length) {
          clearInterval(timer);
          timers.delete(timer);
          res.end(piece);
          return;
        }
        res.write(piece);
      }, intervalMs);
      timers.add(timer);
      res.once('close', () => {
        clearInterval(timer);
        timers.delete(timer);
      });
      return;
    }
    case 'stall-after-headers':
      res.writeHead(behaviour.status ?? 200, behaviour.headers ?? {});
      res.flushHeaders();
      if (behaviour.body !== undefined) {
        res.write(behaviour.body);
      }
      return;
    case 'reset-mid-body':
      res.writeHead(200, behaviour.headers ?? {});
      res.write(behaviour.body, () => req.socket.resetAndDestroy());
      return;
    case 'short-body':
      res.writeHead(200, { ...behaviour.headers, 'Content-Length': String(behaviour.declaredLength) });
      res.write(behaviour.body, () => req.socket.end());
      return;
    case 'trickle': {
      const { chunk, count, intervalMs } = behaviour;
      const length = Number.isFinite(count) ? Buffer.byteLength(chunk) * count : undefined;
      res.writeHead(200, {
        ...behaviour.headers,
        ...(length === undefined ? {} : { 'Content-Length': String(length) }),
      });
      res.flushHeaders();
      let sent = 0;
      const timer = setInterval(() => {
        if (sent >= count) {
          clearInterval(timer);
          timers.delete(timer);
          res.end();
          return;
        }
        res.write(chunk);
        sent += 1;
      }, intervalMs);
      timers.add(timer);
      res.once('close', () => {
        clearInterval(timer);
        timers.delete(timer);
      });
      return;
    }
  }
}
