import { type Logger, type LoggerOptions, pino } from 'pino';

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
  'config.downloadLinks.secret',
];

export interface CreateLoggerOptions {
  /** @default 'info' */
  readonly level?: LoggerOptions['level'];
  /** Where lines go; tests pass a capturing stream. @default stdout */
  readonly destination?: NodeJS.WritableStream;
}

export function createLogger({ level = 'info', destination }: CreateLoggerOptions = {}): Logger {
  const options: LoggerOptions = {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'moodle-gateway' },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A request's path as it may be logged: no query string (Moodle puts tokens there), no link capability. */
export function loggablePath(url: string): string {
  const path = url.split('?', 1)[0] ?? '';
  return path.replace(/^(.*\/download\/)[^/]+/, '$1[link]');
}
