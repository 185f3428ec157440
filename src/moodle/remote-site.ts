import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type { MoodleSite, SiteInfo, ZipDescriptor } from '../gateway/site.js';
import { createDownloader, isDraftFilePath } from './download.js';
import { fail, ok, type Result, siteFailure } from './failures.js';
import { createRestClient, DEFAULT_MAX_RESPONSE_BYTES } from './rest-client.js';
import type { RetryPolicy } from './retry-policy.js';
import type { SiteCredentials } from './site-endpoint.js';

export const SITE_INFO_FUNCTION = 'core_webservice_get_site_info';
export const PRIVATE_FILES_ZIP_FUNCTION = 'block_my_external_privatefiles_get_private_files_zip';

export interface RemoteSiteTimeouts {
  /** @default 10_000 */
  readonly siteInfoMs?: number;
  /**
   * A site zipping a large private area takes its time.
   * @default 120_000
   */
  readonly zipMs?: number;
  /** Connecting and receiving a download's headers. @default 30_000 */
  readonly downloadHeadersMs?: number;
  /** A download with no byte for this long errors; it has no total deadline. @default 30_000 */
  readonly downloadIdleMs?: number;
}

export interface RemoteSiteOptions {
  readonly site: SiteCredentials;
  /** The process's undici Agent. */
  readonly dispatcher: Dispatcher;
  readonly timeouts?: RemoteSiteTimeouts;
  /**
   * Largest accepted REST answer.
   * @default 4 MiB
   */
  readonly maxResponseBytes?: number;
  /**
   * Retries of site info, an idempotent read, within its deadline (see `retryDelayMs`).
   * `{ retries: 0 }` turns them off. The zip call is never retried: each call builds a zip.
   * @default {} (the policy's defaults: 2 retries)
   */
  readonly siteInfoRetry?: RetryPolicy;
  readonly logger?: Logger;
}

// Moodle sends its booleans as 0/1 in some places and true/false in others.
const flag = z.union([z.boolean(), z.number()]).transform((value) => value === true || value === 1);
const versionString = z.union([z.string(), z.number()]).transform(String);

// Only the fields we expose are read, so secrets such as `userprivateaccesskey` are dropped here.
const siteInfoSchema = z.object({
  sitename: z.string(),
  siteurl: z.string(),
  release: z.string().nullish(),
  version: versionString.nullish(),
  lang: z.string().nullish(),
  username: z.string().nullish(),
  downloadfiles: flag.optional(),
  uploadfiles: flag.optional(),
  functions: z.array(z.object({ name: z.string(), version: versionString })),
});

const zipDescriptorSchema = z.object({
  contextid: z.number().int(),
  component: z.string(),
  filearea: z.string(),
  itemid: z.number().int(),
  filepath: z.string(),
  filename: z.string().min(1),
  relativepath: z.string().refine(isDraftFilePath, 'not a plain absolute path'),
});

/** The `MoodleSite` port over a real Moodle's REST protocol (or anything speaking it, such as the provider). */
export function createRemoteSite(options: RemoteSiteOptions): MoodleSite {
  const {
    site,
    dispatcher,
    timeouts = {},
    maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES,
    siteInfoRetry = {},
    logger,
  } = options;
  const {
    siteInfoMs = 10_000,
    zipMs = 120_000,
    downloadHeadersMs = 30_000,
    downloadIdleMs = 30_000,
  } = timeouts;
  const rest = createRestClient({ dispatcher, site, ...(logger === undefined ? {} : { logger }) });
  const downloader = createDownloader({ dispatcher, site, ...(logger === undefined ? {} : { logger }) });

  return {
    id: site.id,
    url: site.url,

    async getSiteInfo(callOptions = {}): Promise<Result<SiteInfo>> {
      const result = await rest.call(
        SITE_INFO_FUNCTION,
        {},
        { timeoutMs: siteInfoMs, maxResponseBytes, retry: siteInfoRetry, ...withSignal(callOptions.signal) },
      );
      if (!result.ok) {
        return result;
      }
      const parsed = siteInfoSchema.safeParse(result.value);
      if (!parsed.success) {
        return fail(shapeFailure('site info', parsed.error));
      }
      const info = parsed.data;
      return ok({
        sitename: info.sitename,
        siteurl: info.siteurl,
        release: info.release ?? null,
        version: info.version ?? null,
        lang: info.lang ?? null,
        username: info.username ?? null,
        downloadfiles: info.downloadfiles ?? false,
        uploadfiles: info.uploadfiles ?? false,
        functions: info.functions.map(({ name, version }) => ({ name, version })),
      });
    },

    async createPrivateFilesZip(username, callOptions = {}): Promise<Result<ZipDescriptor>> {
      // Sent exactly as given: Moodle matches usernames exactly, so trimming or lower-casing would
      // fetch someone else's files or hide a caller's mistake. Never retried: each call builds a zip.
      const result = await rest.call(
        PRIVATE_FILES_ZIP_FUNCTION,
        { username },
        { timeoutMs: zipMs, maxResponseBytes, ...withSignal(callOptions.signal) },
      );
      if (!result.ok) {
        const { failure } = result;
        // The function's only parameter is the username, so an invalid parameter is an unknown user.
        if (failure.remoteErrorCode === 'invalidparameter') {
          return fail(
            siteFailure(
              'USER_NOT_FOUND',
              `The site has no user ${JSON.stringify(username)} (usernames match exactly)`,
              {
                remoteErrorCode: failure.remoteErrorCode,
                cause: failure.cause,
              },
            ),
          );
        }
        return result;
      }
      const parsed = zipDescriptorSchema.safeParse(result.value);
      return parsed.success ? ok(parsed.data) : fail(shapeFailure('zip descriptor', parsed.error));
    },

    openDownload(relativepath, callOptions = {}) {
      return downloader.open(relativepath, {
        headersTimeoutMs: downloadHeadersMs,
        idleTimeoutMs: downloadIdleMs,
        ...withSignal(callOptions.signal),
      });
    },
  };
}

function withSignal(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}

function shapeFailure(what: string, error: z.ZodError) {
  const issue = error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
  return siteFailure(
    'BAD_RESPONSE',
    `Unexpected answer from the site: ${what} of an unexpected shape${where} (${issue?.message ?? 'invalid'})`,
    { cause: error },
  );
}
