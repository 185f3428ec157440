import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { CliIo } from './cli-io.js';
import { parsePort, parsePositiveInt } from './load-cli-config.js';

/** What an action hands back: an exit code, or nothing for a server that keeps running. */
export type ActionOutcome = number | undefined;

export interface ProgramOptions {
  readonly io: CliIo;
  /** Told the outcome of the action that ran. */
  readonly onOutcome: (outcome: ActionOutcome) => void;
  /** Aborts a download (Ctrl-C). */
  readonly signal?: AbortSignal;
}

const CONFIG_HELP =
  'configuration file (YAML or JSON); else MOODLE_GATEWAY_CONFIG, MOODLE_SITES, or the demo';

function examples(lines: readonly string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

function version(): string {
  // The same relative path from src/cli and from dist/cli.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/**
 * The `moodle-gateway` command line. Actions import their implementation only when they run, so
 * `--help` stays instant.
 */
export function createProgram({ io, onOutcome, signal }: ProgramOptions): Command {
  const program = new Command('moodle-gateway')
    .description('A GraphQL gateway federating Moodle platforms, with a Moodle-compatible local provider.')
    .version(version(), '-v, --version')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();
  program.addHelpText(
    'after',
    examples([
      'moodle-gateway                      # serve the embedded demo on http://localhost:4000/graphql',
      'moodle-gateway serve --config gateway.yaml --port 8080',
      'moodle-gateway sites check --config gateway.yaml',
      'moodle-gateway download --site lettres --user alice',
      'moodle-gateway <command> --help',
    ]),
  );
  const run = (action: () => Promise<ActionOutcome>) => async () => onOutcome(await action());

  program
    .command('serve', { isDefault: true })
    .description(
      'run the gateway (GraphQL, downloads, health, metrics) until SIGTERM or Ctrl-C (the default command)',
    )
    .option('-c, --config <file>', CONFIG_HELP)
    .option('-p, --port <port>', 'listen on this port (wins over PORT and server.port)', parsePort)
    .addHelpText(
      'after',
      examples([
        'moodle-gateway serve',
        'moodle-gateway serve --config /etc/moodle-gateway/gateway.yaml',
        'PORT=8080 GATEWAY_LINK_SECRET=$(cat /run/secrets/link) moodle-gateway serve -c gateway.yaml',
        'MOODLE_SITES="https://moodle.example.edu,$TOKEN" moodle-gateway serve',
      ]),
    )
    .action(async (flags: { config?: string; port?: number }) =>
      run(async () => {
        const { serveCommand } = await import('./serve-command.js');
        await serveCommand(flags, io);
        return undefined;
      })(),
    );

  program
    .command('provider')
    .description('run the local provider alone, answering Moodle REST and download paths on its own port')
    .option('-c, --config <file>', `${CONFIG_HELP}; its provider section is used`)
    .option('-p, --port <port>', 'listen on this port', parsePort, 4100)
    .option('--host <host>', 'listen on this address (default: server.host)')
    .option('--data-dir <dir>', 'the store directory (default: provider.dataDir)')
    .option(
      '--base-path <path>',
      'serve the Moodle paths under this prefix, like a Moodle in a sub-directory',
    )
    .option(
      '--seed-demo',
      'create the demo users, files, service and token (token from PROVIDER_DEMO_TOKEN, else written to <data-dir>/demo-token)',
    )
    .addHelpText(
      'after',
      examples([
        'moodle-gateway provider --port 4100 --data-dir /var/lib/moodle-gateway',
        'moodle-gateway provider --seed-demo --data-dir ./demo-data',
      ]),
    )
    .action(async (flags: Record<string, unknown>) =>
      run(async () => {
        const { providerCommand } = await import('./provider-command.js');
        await providerCommand(flags, io);
        return undefined;
      })(),
    );

  const sites = program
    .command('sites')
    .description('the configured Moodle sites: check them, list them')
    .addHelpText('after', examples(['moodle-gateway sites check', 'moodle-gateway sites list --json']));

  sites
    .command('check')
    .description(
      'ask every configured site for its info now and print id, name, release, latency, status, failure code and message; exits 1 when an enabled site fails',
    )
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--tenant <tenant>', "only this tenant's sites")
    .option(
      '--timeout <ms>',
      "each site's deadline (default: its configured siteInfoMs)",
      parsePositiveInt('--timeout'),
    )
    .option('--json', 'print JSON instead of a table')
    .addHelpText(
      'after',
      examples([
        'moodle-gateway sites check --config gateway.yaml',
        'moodle-gateway sites check --timeout 3000 --json | jq \'.[] | select(.status == "failed")\'',
        'moodle-gateway sites check || echo "a site is down"',
      ]),
    )
    .action(async (flags: Record<string, unknown>) =>
      run(async () => (await import('./sites-command.js')).sitesCheckCommand(flags, io))(),
    );

  sites
    .command('list')
    .description('list the configured sites (never their tokens)')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--tenant <tenant>', "only this tenant's sites")
    .option('--json', 'print JSON instead of a table')
    .addHelpText(
      'after',
      examples(['moodle-gateway sites list', 'moodle-gateway sites list --json --config gateway.yaml']),
    )
    .action(async (flags: Record<string, unknown>) =>
      run(async () => (await import('./sites-command.js')).sitesListCommand(flags, io))(),
    );

  for (const action of ['add', 'remove'] as const) {
    sites
      .command(action)
      .description(
        `${action} a site in the persisted registry (not available yet: needs the site registry, issue 8)`,
      )
      .argument('[args...]')
      .allowUnknownOption()
      .addHelpText(
        'after',
        '\nUntil the registry exists, edit the sites: list of the configuration file (or MOODLE_SITES) and restart.\n',
      )
      .action(async () =>
        run(async () => (await import('./sites-command.js')).sitesRegistryUnavailable(action, io))(),
      );
  }

  program
    .command('download')
    .description(
      "stream a user's private files zip from a site to a file (written atomically), with a progress bar on a terminal",
    )
    .requiredOption('-s, --site <id>', 'the site, by its configured id')
    .requiredOption(
      '-u, --user <username>',
      'the Moodle username, exactly (Moodle matches it case-sensitively)',
    )
    .option(
      '-o, --out <file>',
      'where to save it (default: the name the gateway gives, in the current directory)',
    )
    .option('--tenant <tenant>', 'the tenant the site belongs to', 'default')
    .option('-f, --force', 'replace --out when it exists')
    .option('-c, --config <file>', CONFIG_HELP)
    .addHelpText(
      'after',
      `${examples([
        'moodle-gateway download --site lettres --user alice',
        'moodle-gateway download -s lettres -u alice -o /tmp/alice.zip --force',
      ])}\nThe saved path is printed on stdout; progress and messages go to stderr.\n`,
    )
    .action(async (flags: { site: string; user: string }) =>
      run(async () => (await import('./download-command.js')).downloadCommand(flags, io, signal))(),
    );

  program
    .command('cleanup')
    .description("run the local provider's cleanup now: old generated zips, then unreferenced blobs")
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--data-dir <dir>', 'the store directory (default: provider.dataDir)')
    .addOption(
      new Option(
        '--max-age-hours <hours>',
        'delete zips older than this (default: provider.cleanup.maxAgeHours)',
      ).argParser((value) => {
        const hours = Number(value);
        if (!(hours > 0))
          throw new Error(`--max-age-hours must be a positive number, not ${JSON.stringify(value)}`);
        return hours;
      }),
    )
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples([
        'moodle-gateway cleanup --config gateway.yaml',
        'moodle-gateway cleanup --data-dir /var/lib/moodle-gateway --max-age-hours 1 --json',
      ]),
    )
    .action(async (flags: Record<string, unknown>) =>
      run(async () => (await import('./cleanup-command.js')).cleanupCommand(flags, io))(),
    );

  const config = program.command('config').description('the configuration');
  config
    .command('check')
    .description(
      'validate the configuration as serve loads it and print the effective result, secrets masked',
    )
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--json', 'print JSON instead of YAML')
    .addHelpText(
      'after',
      `${examples([
        'moodle-gateway config check --config gateway.yaml',
        'MOODLE_SITES="https://moodle.example.edu,$TOKEN" moodle-gateway config check --json',
      ])}\nExit code 0 when valid, 2 when not (each bad field is named).\n`,
    )
    .action(async (flags: Record<string, unknown>) =>
      run(async () => (await import('./config-command.js')).configCheckCommand(flags, io))(),
    );

  return program;
}
