import type { FastifyReply, FastifyRequest } from 'fastify';
import { MoodleWsError, WS_ERRORS } from '../moodle-errors.js';
import type { TokenCheck } from '../token-check.js';
import type { ClientIpResolver } from './client-ip.js';
import { type MaintenanceMode, sendCliMaintenancePage } from './maintenance-mode.js';
import type { ProviderLogger } from './provider-logger.js';
import { requestParams } from './request-params.js';
import { sendWsError, sendWsResult, wsFormatOf } from './send-ws-reply.js';
import { wsErrorForTokenFailure } from './token-failure-errors.js';
import type { WsFunction } from './ws-function.js';

export interface ServerPhpHandlerOptions {
  readonly functions: ReadonlyMap<string, WsFunction>;
  readonly tokenCheck: TokenCheck;
  readonly clientIp: ClientIpResolver;
  /** The provider's base URL as the caller sees it. */
  readonly siteUrl: (request: FastifyRequest) => string;
  /** Language of an account whose own language the provider has no strings for. */
  readonly siteLang: string;
  readonly languages: readonly string[];
  readonly logger: ProviderLogger;
  /** Adds Moodle's `debuginfo` to errors (the real reason). @default false */
  readonly debug?: boolean;
  /** @default () => 'off' */
  readonly maintenance?: () => MaintenanceMode;
  /** When off, Moodle answers HTTP 403 with an empty body. @default () => true */
  readonly webServicesEnabled?: () => boolean;
}

const RESERVED = new Set(['wstoken', 'wsfunction', 'moodlewsrestformat']);

/** Moodle's `current_language()`: the account's language when the site has it, else the site's. */
function languageOf(userLang: string, options: ServerPhpHandlerOptions): string {
  return options.languages.includes(userLang) ? userLang : options.siteLang;
}

/** Aborted when the client disconnects before its answer is written (a zip build is then wasted work). */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client closed the connection'));
  });
  return controller.signal;
}

/**
 * `webservice/rest/server.php`: parses the call as Moodle's REST server does, checks the token and
 * the function's place in its service, runs the function, and answers HTTP 200 in JSON or XML
 * whatever happened. The token is never logged.
 */
export function createServerPhpHandler(options: ServerPhpHandlerOptions) {
  const {
    functions,
    tokenCheck,
    clientIp,
    siteUrl,
    logger,
    debug = false,
    maintenance = () => 'off',
    webServicesEnabled = () => true,
  } = options;

  return async function serverPhp(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    if (!webServicesEnabled()) {
      return reply.code(403).header('Content-Type', 'text/html; charset=utf-8').send('');
    }
    if (maintenance() === 'cli') return sendCliMaintenancePage(reply);

    const fields = requestParams(request);
    const format = wsFormatOf(fields.moodlewsrestformat);
    const wsfunction = fields.wsfunction;
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries(fields)) if (!RESERVED.has(key)) params[key] = value;

    const fail = (error: MoodleWsError) => {
      logger.info(
        { wsfunction, errorcode: error.body.errorcode ?? error.body.exception, reason: error.debuginfo },
        'provider web-service call refused',
      );
      return sendWsError(reply, format, error.body, debug ? error.debuginfo : undefined);
    };

    const checked = await tokenCheck.check({
      token: fields.wstoken,
      ip: clientIp(request),
      purpose: { kind: 'function', wsfunction },
    });
    if (!checked.ok) return fail(new MoodleWsError(wsErrorForTokenFailure(checked), checked.debuginfo));

    const fn = functions.get(wsfunction ?? '');
    if (!fn) return fail(new MoodleWsError(WS_ERRORS.invalidrecord, 'function not implemented'));
    const signal = clientGone(reply);
    try {
      const value = await fn.execute({
        grant: checked,
        params,
        siteUrl: siteUrl(request),
        lang: languageOf(checked.user.lang, options),
        signal,
      });
      logger.debug({ wsfunction, userid: checked.user.id }, 'provider web-service call');
      return sendWsResult(reply, format, value);
    } catch (error) {
      if (error instanceof MoodleWsError) return fail(error);
      if (signal.aborted) logger.info({ wsfunction }, 'provider web-service call abandoned by its client');
      else logger.error({ err: error, wsfunction }, 'provider web-service function failed');
      return sendWsError(reply, format, WS_ERRORS.unexpected);
    }
  };
}
