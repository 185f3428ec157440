import { CommanderError } from 'commander';
import { CliError, type CliIo, EXIT, printLine, processIo } from './cli-io.js';
import { type ActionOutcome, createProgram } from './create-program.js';

/**
 * Runs the command line and resolves to the exit code (0 while a server keeps running). Usage and
 * configuration errors print one message, never a stack trace.
 */
export async function runCli(args: readonly string[], io: CliIo = processIo()): Promise<number> {
  const interrupt = new AbortController();
  const onSigint = () => {
    interrupt.abort(new CliError('Interrupted', EXIT.interrupted));
    // A command that cannot be interrupted cleanly (a site check within its deadlines) ends anyway.
    setTimeout(() => process.exit(EXIT.interrupted), 2000).unref();
  };
  let outcome: ActionOutcome;
  const program = createProgram({
    io,
    signal: interrupt.signal,
    onOutcome: (value) => {
      outcome = value;
    },
  });
  process.once('SIGINT', onSigint);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return outcome ?? EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (interrupt.signal.aborted) {
      printLine(io.stderr, 'Interrupted: nothing was saved.');
      return EXIT.interrupted;
    }
    if (error instanceof CliError) {
      printLine(io.stderr, error.message);
      return error.exitCode;
    }
    printLine(
      io.stderr,
      `Unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return EXIT.failed;
  } finally {
    // A running server installs its own handlers; a finished command leaves none behind.
    process.off('SIGINT', onSigint);
  }
}
