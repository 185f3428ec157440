import { type Logger, type LoggerOptions, pino } from 'pino';
import pretty from 'pino-pretty';
import { currentRequestContext } from './request-context.js';

/**
 * Field names whose values are secrets wherever they appear in a log object. The secret-scan
 * test checks that no configured secret reaches a log line anyway.
 */
export const REDACTED_PATHS = [
  'token',
  'wstoken',
  'password',
  'secret',
  'authorization',
  '*.token',
  '*.wstoken',
  '*.password',
  '*.secret',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'config.sites[*].token',
  'config.sites[*].userSync.token',
  'config.downloadLinks.secret',
];

export interface CreateLoggerOptions {
  /** @default 'info' */
  readonly level?: LoggerOptions['level'];
  /** Where lines go; tests pass a capturing stream. @default stdout */
  readonly destination?: NodeJS.WritableStream;
  /**
   * Human-readable, coloured lines on stdout instead of JSON (see `shouldPrettyPrint`); ignored
   * with a `destination`. Redaction applies before formatting.
   * @default false
   */
  readonly pretty?: boolean;
}

export function createLogger({
  level = 'info',
  destination,
  pretty: human = false,
}: CreateLoggerOptions = {}): Logger {
  const options: LoggerOptions = {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'moodle-gateway' },
    mixin: requestIdMixin,
  };
  if (destination) return pino(options, destination);
  if (human) {
    return pino(
      options,
      pretty({
        colorize: true,
        sync: true,
        singleLine: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,service',
      }),
    );
  }
  return pino(options);
}

/**
 * Pretty lines when a person is watching: stdout is a terminal and this is not production.
 * `LOG_FORMAT=json` or `LOG_FORMAT=pretty` decides instead.
 */
export function shouldPrettyPrint(
  env: Readonly<Record<string, string | undefined>> = process.env,
  isTTY: boolean = process.stdout.isTTY === true,
): boolean {
  if (env.LOG_FORMAT === 'json') return false;
  if (env.LOG_FORMAT === 'pretty') return true;
  return isTTY && env.NODE_ENV !== 'production';
}

// Lines written while serving a request carry its id, even those of code holding the root logger.
// Child loggers already bound to a request id (Fastify's `request.log`) are left alone.
function requestIdMixin(_object: object, _level: number, logger: Logger): object {
  const context = currentRequestContext();
  if (context === undefined) return {};
  const bindings = (logger as unknown as Record<symbol, unknown>)[pino.symbols.chindingsSym];
  if (typeof bindings === 'string' && bindings.includes('"reqId":')) return {};
  return { reqId: context.reqId };
}

/** A request's path as it may be logged: no query string (Moodle puts tokens there), no link capability. */
export function loggablePath(url: string): string {
  const path = url.split('?', 1)[0] ?? '';
  return path.replace(/^(.*\/download\/)[^/]+/, '$1[link]');
}
