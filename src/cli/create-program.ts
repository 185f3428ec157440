import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { CliIo } from './cli-io.js';
import { parseInteger, parsePort, parsePositiveInt } from './load-cli-config.js';

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

const REGISTRY_HELP = `
The registry is the gateway's: registry.sqlite in registry.dataDir, else in provider.dataDir when the
provider is enabled. Give this command the gateway's configuration and run it as the gateway's user.
A gateway already running on this registry keeps a copy of it in memory, and looks for changes made
beside it every registry.watchMs (2 s by default): it serves a change made here within that time.
With registry.watchMs: 0, it serves it from its next start only. The gateway's GraphQL mutations
(registerSite, updateSite, removeSite; registrySites lists them) change a running gateway at once.
`;

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
    .description(
      'the Moodle sites: check them (configured and registered); list, add and remove registered ones',
    )
    .addHelpText(
      'after',
      examples([
        'moodle-gateway sites check',
        'moodle-gateway sites list --json',
        'moodle-gateway sites add --url https://moodle.law.example --token-env MOODLE_TOKEN',
        'moodle-gateway sites remove law',
      ]),
    );

  sites
    .command('check')
    .description(
      'ask every configured and registered site for its info now and print id, name, release, latency, status, failure code and message; exits 1 when an enabled site fails',
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
    .description(
      'list the configured sites and the sites of the persisted registry, marked by source (never their tokens)',
    )
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--tenant <tenant>', "only this tenant's sites")
    .option('--json', 'print JSON instead of a table')
    .addHelpText(
      'after',
      `${examples(['moodle-gateway sites list', 'moodle-gateway sites list --json --config gateway.yaml'])}${REGISTRY_HELP}`,
    )
    .action(async (flags: Record<string, unknown>) =>
      run(async () => (await import('./sites-registry-command.js')).sitesListCommand(flags, io))(),
    );

  sites
    .command('add')
    .description(
      'register a site in the persisted registry: the site is asked first with the token, and saved only when it answers (as registerSite does)',
    )
    .requiredOption('--url <url>', "the Moodle's base URL (its wwwroot)")
    .option('--token-env <name>', 'read the token from this environment variable (preferred)')
    .option(
      '--token <token>',
      'the token; "-" reads it from stdin (hidden when typed on a terminal). Prefer "-" or --token-env: see below',
    )
    .option('--name <name>', 'shown instead of the name the site gives itself')
    .option('--id <id>', 'a slug unique in the tenant (default: derived from the URL)')
    .option('--tenant <tenant>', 'the tenant the site belongs to', 'default')
    .option('--priority <n>', 'higher comes first in every list (default: 0)', parseInteger('--priority'))
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--json', 'print the site (or the failure) as JSON')
    .addHelpText(
      'after',
      `${examples([
        'MOODLE_TOKEN=… moodle-gateway sites add --url https://moodle.law.example --token-env MOODLE_TOKEN --id law',
        'moodle-gateway sites add --url https://moodle.law.example --token - < law-token.txt',
        'moodle-gateway sites add --url https://moodle.law.example --token -    # asks, without echo',
      ])}
The site is called first (core_webservice_get_site_info) with the token. A site that does not answer
or refuses the token is not saved: its failure code and message are printed (INVALID_TOKEN,
UNREACHABLE, …) and the exit code is 1. Its name, release and functions are recorded.

Why not --token TOKEN: a token on the command line is readable by every user of the machine (ps,
/proc/<pid>/cmdline) until the command hides it from its process title, and it stays in the shell's
history. --token-env NAME and --token - keep it off the command line. The token is never printed
or logged; only its last characters are shown.
${REGISTRY_HELP}`,
    )
    .action(async (flags: { url: string }) =>
      run(async () => (await import('./sites-registry-command.js')).sitesAddCommand(flags, io))(),
    );

  sites
    .command('remove')
    .description('remove a registered site from the persisted registry (configuration sites are read-only)')
    .argument('<id>', 'the site id')
    .option('--tenant <tenant>', 'the tenant the site belongs to', 'default')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `${examples(['moodle-gateway sites remove law', 'moodle-gateway sites remove law --tenant acme'])}
A site of the configuration is changed in the configuration: removing it here is refused (exit 1).
${REGISTRY_HELP}`,
    )
    .action(async (id: string, flags: Record<string, unknown>) =>
      run(async () => (await import('./sites-registry-command.js')).sitesRemoveCommand(id, flags, io))(),
    );

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
