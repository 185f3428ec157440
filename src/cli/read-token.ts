import { CliError, type CliIo, EXIT, type InputStream, type OutputStream } from './cli-io.js';

export interface TokenFlags {
  /** The token itself, or `-` to read it from stdin. */
  readonly token?: string;
  /** The name of an environment variable holding the token. */
  readonly tokenEnv?: string;
}

/** Longer than any web-service token; what is piped in beyond it is not read. */
const MAX_STDIN_BYTES = 64 * 1024;

const HOW = 'give the token with --token-env NAME, --token - (read from stdin) or --token TOKEN';

/**
 * The token a command was given: from an environment variable, from stdin (hidden when typed on a
 * terminal), or from the command line. Error messages name where it was looked for, never its value.
 */
export async function readToken(flags: TokenFlags, io: CliIo): Promise<string> {
  if (flags.token !== undefined && flags.tokenEnv !== undefined) {
    throw new CliError(`--token and --token-env cannot be used together: ${HOW}`, EXIT.usage);
  }
  let token: string;
  if (flags.tokenEnv !== undefined) {
    token = (io.env[flags.tokenEnv] ?? '').trim();
    if (token === '') {
      throw new CliError(`The environment variable ${flags.tokenEnv} is not set or empty`, EXIT.usage);
    }
  } else if (flags.token === '-') {
    if (!io.stdin) throw new CliError('--token -: no stdin to read the token from', EXIT.usage);
    token = io.stdin.isTTY ? await promptHidden(io.stdin, io.stderr) : await firstLine(io.stdin);
    if (token === '') throw new CliError('--token -: stdin held no token', EXIT.usage);
  } else if (flags.token !== undefined) {
    token = flags.token.trim();
    if (token === '') throw new CliError('--token: must not be empty', EXIT.usage);
  } else {
    throw new CliError(`No token: ${HOW}`, EXIT.usage);
  }
  return token;
}

/** The first non-empty line of a pipe or file (`printf %s "$TOKEN" | …`, `… < token-file`). */
async function firstLine(stdin: InputStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(buffer);
    size += buffer.length;
    if (size >= MAX_STDIN_BYTES) break;
  }
  const text = Buffer.concat(chunks).subarray(0, MAX_STDIN_BYTES).toString('utf8');
  return (
    text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .find((line) => line !== '') ?? ''
  );
}

/** Asks on the terminal without echoing what is typed. */
function promptHidden(stdin: InputStream, stderr: OutputStream): Promise<string> {
  stderr.write('Token (typing is not shown): ');
  stdin.setRawMode?.(true);
  stdin.setEncoding?.('utf8');
  stdin.resume?.();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause?.();
      stderr.write('\n');
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of String(chunk)) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          finish();
          resolve(value.trim());
          return;
        }
        if (char === '\u0003') {
          finish();
          reject(new CliError('Interrupted: nothing was saved.', EXIT.interrupted));
          return;
        }
        value = char === '\u007f' || char === '\b' ? value.slice(0, -1) : value + char;
      }
    };
    stdin.on('data', onData);
  });
}
