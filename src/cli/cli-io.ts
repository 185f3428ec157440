/** Exit codes every command shares; `docs/operations.md` lists them. */
export const EXIT = {
  ok: 0,
  /** The command ran and something failed: a site check, a download, a cleanup. */
  failed: 1,
  /** The command line or the configuration is wrong; nothing was attempted. */
  usage: 2,
  /** Interrupted (Ctrl-C), as shells report SIGINT. */
  interrupted: 130,
} as const;

/** A failure the command line reports as one clear message and an exit code, without a stack. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** What a command may read a secret from (`--token -`). */
export interface InputStream extends AsyncIterable<Buffer | string> {
  readonly isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  setEncoding?(encoding: BufferEncoding): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  resume?(): unknown;
  pause?(): unknown;
}

/** Where a command writes and what it reads of its environment, so tests can run commands in process. */
export interface CliIo {
  /** Results: tables, JSON, the effective configuration. */
  readonly stdout: OutputStream;
  /** Messages, warnings and the progress bar. */
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Read only by a command told to (`--token -`). @default none: such a command refuses */
  readonly stdin?: InputStream;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin };
}

export function printLine(stream: OutputStream, line = ''): void {
  stream.write(`${line}\n`);
}
