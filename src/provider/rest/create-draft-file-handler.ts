import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  DOWNLOAD_ERRORS,
  type DownloadErrorDefinition,
  downloadErrorBody,
  MoodleDownloadError,
} from '../moodle-errors.js';
import type { GeneratedZip, ProviderStore } from '../store/repository.js';
import { checkCapability, type TokenCheck } from '../token-check.js';
import type { ClientIpResolver } from './client-ip.js';
import { type MaintenanceMode, sendCliMaintenancePage } from './maintenance-mode.js';
import { ifRangeMatches, parseByteRange } from './parse-byte-range.js';
import { phpJsonEncode } from './php-json-encode.js';
import type { ProviderLogger } from './provider-logger.js';
import { requestParams } from './request-params.js';
import { downloadErrorForTokenFailure } from './token-failure-errors.js';

export interface DraftFileHandlerOptions {
  readonly store: ProviderStore;
  readonly tokenCheck: TokenCheck;
  readonly clientIp: ClientIpResolver;
  readonly logger: ProviderLogger;
  /** Fills `debuginfo` of error bodies with the real reason. @default false */
  readonly debug?: boolean;
  /** @default () => 'off' */
  readonly maintenance?: () => MaintenanceMode;
  /** @default () => true */
  readonly webServicesEnabled?: () => boolean;
}

/** Where the file is, from the path after the script name (`/{contextid}/user/draft/{itemid}/{filename}`). */
interface DraftFileAddress {
  readonly contextid: number;
  readonly component: string;
  readonly filearea: string;
  readonly itemid: number;
  readonly filepath: string;
  readonly filename: string;
}

const POSITIVE_INTEGER = /^\d{1,15}$/;

/** `null` when too short to name a file area (`invalidarguments`); fields that name nothing stay invalid, to be not found. */
function parseRelativePath(relativepath: string): DraftFileAddress | 'invalid' | null {
  const args = relativepath.replace(/^\/+/, '').split('/');
  if (args.length < 3) return null;
  const [contextid = '', component = '', filearea = '', itemid = '', ...rest] = args;
  const filename = rest.pop();
  if (!POSITIVE_INTEGER.test(contextid) || !POSITIVE_INTEGER.test(itemid) || !filename) return 'invalid';
  return {
    contextid: Number(contextid),
    component,
    filearea,
    itemid: Number(itemid),
    filepath: rest.length > 0 ? `/${rest.join('/')}/` : '/',
    filename,
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

// Moodle quotes the name as is; a quote or backslash in it would end the parameter early.
function dispositionName(filename: string): string {
  return filename.replace(/["\\\r\n]/g, '_');
}

/**
 * `blocks/my_external_privatefiles/get_user_draft_file_webservice.php/{contextid}/user/draft/{itemid}/{filename}?token=…`:
 * checks the token (as web services do), the service's download flag and the account's capability,
 * then streams the zip from the blob store with Moodle's headers. A single byte range is honoured
 * (206, or 416 when it starts past the end) so a broken download can resume. A read lease keeps
 * cleanup from deleting the zip while it streams. Errors are Moodle's JSON, HTTP 200 but a missing
 * file (404).
 */
export function createDraftFileHandler(options: DraftFileHandlerOptions) {
  const {
    store,
    tokenCheck,
    clientIp,
    logger,
    debug = false,
    maintenance = () => 'off',
    webServicesEnabled = () => true,
  } = options;

  function sendError(reply: FastifyReply, definition: DownloadErrorDefinition, reason?: string) {
    logger.info({ errorcode: definition.errorcode, reason }, 'provider download refused');
    const error = new MoodleDownloadError(definition, reason);
    return reply
      .code(error.statusCode)
      .header('Content-Type', 'application/json; charset=utf-8')
      .send(phpJsonEncode(downloadErrorBody(error, debug)));
  }

  async function findZip(address: DraftFileAddress): Promise<GeneratedZip | null> {
    if (address.component !== 'user' || address.filearea !== 'draft') return null;
    const zip = await store.zips.find(address.contextid, address.itemid, address.filename);
    return zip && zip.filepath === address.filepath ? zip : null;
  }

  return async function draftFile(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    if (maintenance() === 'cli') return sendCliMaintenancePage(reply);
    const fields = requestParams(request);
    if (fields.token === undefined) return sendError(reply, DOWNLOAD_ERRORS.missingparam);
    if (!webServicesEnabled())
      return sendError(reply, DOWNLOAD_ERRORS.accessexception, 'web services disabled');

    const checked = await tokenCheck.check({
      token: fields.token,
      ip: clientIp(request),
      purpose: { kind: 'download' },
    });
    if (!checked.ok) return sendError(reply, downloadErrorForTokenFailure(checked), checked.debuginfo);

    // Moodle reads the path after the script name, or `?file=` when slash arguments are off.
    const wildcard = (request.params as Record<string, string | undefined>)['*'];
    const address = parseRelativePath(wildcard ? `/${wildcard}` : (fields.file ?? ''));
    if (address === null) return sendError(reply, DOWNLOAD_ERRORS.invalidarguments);
    const missing = checkCapability(checked.user, 'canRetrieveFilesFromOtherUsers');
    if (missing) return sendError(reply, DOWNLOAD_ERRORS.nopermissions, missing.debuginfo);

    const zip = address === 'invalid' ? null : await findZip(address);
    const lease = zip ? await store.zips.acquireRead(zip.id) : null;
    if (!lease) return sendError(reply, DOWNLOAD_ERRORS.filenotfound, 'no such draft file');

    let body: Readable | null = null;
    try {
      const { size, contenthash, timecreated, filename } = lease.zip;
      const etag = `"${contenthash}"`;
      const lastModified = new Date(timecreated * 1000).toUTCString();
      const ifRange = headerValue(request.headers['if-range']);
      const range = ifRangeMatches(ifRange, { etag, lastModified })
        ? parseByteRange(headerValue(request.headers.range), size)
        : ({ kind: 'full' } as const);
      // In the order Moodle's send_file() writes them.
      const headers: Record<string, string> = {
        'Content-Disposition': `attachment; filename="${dispositionName(filename)}"`,
        'Cache-Control': 'private, must-revalidate, pre-check=0, post-check=0, max-age=0, no-transform',
        Expires: 'Thu, 01 Jan 1970 00:00:00 GMT',
        Pragma: 'no-cache',
        'Content-Type': 'application/zip',
        Etag: etag,
        'Accept-Ranges': 'bytes',
        'Last-Modified': lastModified,
      };

      if (range.kind === 'unsatisfiable') {
        lease.release();
        return reply
          .code(416)
          .headers({ ...headers, 'Content-Range': `bytes */${size}`, 'Content-Length': '0' })
          .send();
      }
      const start = range.kind === 'partial' ? range.start : 0;
      const end = range.kind === 'partial' ? range.end : size - 1;
      const length = size === 0 ? 0 : end - start + 1;
      if (range.kind === 'partial') {
        reply.code(206);
        headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
      }
      headers['Content-Length'] = String(length);

      if (request.method === 'HEAD' || length === 0) {
        lease.release();
        return reply.headers(headers).send();
      }
      body = await store.blobs.openRead(contenthash, { start, end });
      if (!body) {
        lease.release();
        return sendError(reply, DOWNLOAD_ERRORS.filenotfound, 'the zip blob is gone');
      }
      const stream = body;
      const done = () => lease.release();
      stream.once('close', done);
      reply.raw.once('close', () => {
        if (!stream.destroyed) stream.destroy();
        done();
      });
      logger.debug({ zip: lease.zip.id, start, end, userid: checked.user.id }, 'provider download');
      return reply.headers(headers).send(stream);
    } catch (error) {
      body?.destroy();
      lease.release();
      logger.error({ err: error }, 'provider download failed');
      if (reply.sent) throw error;
      return sendError(reply, DOWNLOAD_ERRORS.unexpected);
    }
  };
}
