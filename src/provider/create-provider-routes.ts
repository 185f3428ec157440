import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { PROVIDER_LANGUAGES } from './moodle-errors.js';
import { createClientIpResolver } from './rest/client-ip.js';
import { createDraftFileHandler } from './rest/create-draft-file-handler.js';
import { createServerPhpHandler } from './rest/create-server-php-handler.js';
import { createGetPrivateFilesZipFunction } from './rest/get-private-files-zip-function.js';
import { createGetSiteInfoFunction } from './rest/get-site-info-function.js';
import type { MaintenanceMode } from './rest/maintenance-mode.js';
import type { ProviderLogger } from './rest/provider-logger.js';
import type { WsFunction } from './rest/ws-function.js';
import type { ProviderStore } from './store/repository.js';
import { createTokenCheck } from './token-check.js';
import { createUserSyncRoutes } from './user-sync/create-user-sync-routes.js';
import {
  type BuildPrivateFilesZipOptions,
  buildPrivateFilesZip,
  type PrivateFilesZipOutcome,
} from './zip-builder.js';

export const SERVER_PHP_PATH = '/webservice/rest/server.php';
export const DRAFT_FILE_PATH = '/blocks/my_external_privatefiles/get_user_draft_file_webservice.php';

export interface ProviderRoutesOptions {
  readonly store: ProviderStore;
  /**
   * The site's full name, answered as `sitename`.
   * @default 'Moodle gateway provider'
   */
  readonly siteName?: string;
  /**
   * The site's language, used for accounts whose own language the provider has no strings for
   * (`en` and `fr` are known).
   * @default 'en'
   */
  readonly lang?: string;
  /**
   * The provider's base URL (`siteurl`, Moodle's wwwroot). A function gets each request.
   * @default the request's protocol and Host, followed by the prefix the routes are mounted at
   */
  readonly siteUrl?: string | ((request: FastifyRequest) => string);
  /**
   * Addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` is believed for the IP
   * restriction of tokens. Empty: the socket's peer is the caller.
   * @default []
   */
  readonly trustedProxies?: readonly string[];
  /** @default the Fastify instance's logger */
  readonly logger?: ProviderLogger;
  /**
   * Milliseconds since the epoch, for token validity.
   * @default the store's clock
   */
  readonly clock?: () => number;
  /** How zips are built. @default { compression: 'store' } (as Moodle), no size limit */
  readonly zip?: Pick<BuildPrivateFilesZipOptions, 'compression' | 'maxBytes'>;
  /** @default buildPrivateFilesZip */
  readonly buildZip?: (options: BuildPrivateFilesZipOptions) => Promise<PrivateFilesZipOutcome>;
  /** Adds Moodle's `debuginfo` (the real reason) to errors, as a Moodle in debug mode. @default false */
  readonly debug?: boolean;
  /** @default () => 'off' */
  readonly maintenance?: () => MaintenanceMode;
  /** Moodle's "Enable web services" switch. @default () => true */
  readonly webServicesEnabled?: () => boolean;
}

/**
 * The provider's Moodle-compatible HTTP surface as an encapsulated Fastify plugin:
 * `{base}/webservice/rest/server.php` (GET or POST) and the plugin's draft-file download path.
 * Body parsing is registered inside the plugin only: form bodies as PHP reads them, any other body
 * ignored as PHP ignores it, so the host app's parsers are untouched.
 *
 * `app.register(createProviderRoutes({ store }), { prefix: '/provider' })`
 */
export function createProviderRoutes(options: ProviderRoutesOptions): FastifyPluginAsync {
  const {
    store,
    siteName = 'Moodle gateway provider',
    lang = 'en',
    trustedProxies = [],
    clock,
    zip,
    buildZip = buildPrivateFilesZip,
    debug = false,
    maintenance = () => 'off',
    webServicesEnabled = () => true,
  } = options;

  return async function providerRoutes(app: FastifyInstance) {
    const logger = options.logger ?? app.log;
    const prefix = app.prefix;
    const siteUrl =
      typeof options.siteUrl === 'string'
        ? () => options.siteUrl as string
        : (options.siteUrl ??
          ((request: FastifyRequest) => `${request.protocol}://${request.host}${prefix}`));

    const zipFunction = createGetPrivateFilesZipFunction({ store, buildZip, zipOptions: zip });
    const versions = new Map([[zipFunction.name, zipFunction.version]]);
    const siteInfoFunction = createGetSiteInfoFunction({ siteName, functionVersions: versions });
    versions.set(siteInfoFunction.name, siteInfoFunction.version);
    const functions = new Map<string, WsFunction>([zipFunction, siteInfoFunction].map((fn) => [fn.name, fn]));

    const tokenCheck = createTokenCheck({
      store,
      clock,
      functionExists: (name) => functions.has(name),
      maintenance: () => maintenance() === 'admin',
    });
    const clientIp = createClientIpResolver(trustedProxies);
    const shared = { tokenCheck, clientIp, logger, debug, maintenance, webServicesEnabled };

    app.removeAllContentTypeParsers();
    await app.register(formbody);
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));

    const serverPhp = createServerPhpHandler({
      ...shared,
      functions,
      siteUrl,
      siteLang: lang,
      languages: PROVIDER_LANGUAGES,
    });
    app.route({ method: ['GET', 'POST'], url: SERVER_PHP_PATH, handler: serverPhp });

    // Claroline's remote user synchronization: JSON bodies, parsed in its own encapsulated context.
    await app.register(createUserSyncRoutes({ store, clientIp, logger }));

    const draftFile = createDraftFileHandler({ ...shared, store });
    // HEAD is declared rather than derived from GET: Fastify's derived HEAD would read the whole file to discard it.
    for (const url of [DRAFT_FILE_PATH, `${DRAFT_FILE_PATH}/*`]) {
      app.route({ method: ['GET', 'HEAD'], url, handler: draftFile, exposeHeadRoute: false });
    }
  };
}

/** The same plugin taking its dependencies as register options: `app.register(providerRoutes, { prefix, store })`. */
export const providerRoutes: FastifyPluginAsync<ProviderRoutesOptions> = async (app, options) =>
  createProviderRoutes(options)(app, {});
