import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createProviderAdmin } from '../provider/provider-admin.js';
import { seedDemo } from '../provider/seed-demo.js';
import { startStandaloneProvider } from '../provider/standalone.js';
import { createLogger, shouldPrettyPrint } from '../server/logger.js';
import { type CliIo, printLine } from './cli-io.js';
import { type ConfigFlags, loadCliConfig } from './load-cli-config.js';
import { stopOnSignals } from './stop-on-signals.js';

export const DEFAULT_PROVIDER_PORT = 4100;

export interface ProviderFlags extends ConfigFlags {
  readonly host?: string;
  readonly dataDir?: string;
  /** Where the Moodle paths sit (`/moodle`); the root by default, as a Moodle on its own host. */
  readonly basePath?: string;
  readonly seedDemo?: boolean;
}

/**
 * `moodle-gateway provider`: the local provider alone, on its own port, answering Moodle's REST and
 * download paths; a gateway anywhere federates it as a site like any Moodle.
 */
export async function providerCommand(flags: ProviderFlags, io: CliIo): Promise<void> {
  // --port is the provider's own, never the gateway's `server.port`.
  const config = await loadCliConfig({ ...(flags.config !== undefined && { config: flags.config }) }, io.env);
  const logger = createLogger({ level: config.logLevel, pretty: shouldPrettyPrint(io.env) });
  const settings = config.provider;
  const dataDir = flags.dataDir ?? settings.dataDir;
  const fresh = !existsSync(join(dataDir, 'provider.sqlite'));
  const provider = await startStandaloneProvider({
    dataDir,
    host: flags.host ?? config.server.host,
    port: flags.port ?? DEFAULT_PROVIDER_PORT,
    basePath: flags.basePath ?? '',
    siteName: settings.siteName,
    trustedProxies: settings.trustedProxies,
    zip: { compression: settings.zipCompression },
    cleanup: { cron: settings.cleanup.cron, maxAgeMs: settings.cleanup.maxAgeHours * 3_600_000 },
    logger: logger.child({ part: 'provider' }),
  });
  logger.info({ url: provider.url, dataDir, created: fresh }, 'provider ready');

  if (flags.seedDemo ?? settings.seedDemo) {
    // The token never reaches the terminal or the logs: it comes from the environment, or is written
    // to a file only the operator can read.
    const given = io.env.PROVIDER_DEMO_TOKEN?.trim() || undefined;
    const seed = await seedDemo(createProviderAdmin({ store: provider.store }), {
      siteName: settings.siteName,
      ...(given !== undefined && { token: given }),
    });
    const tokenFile = join(dataDir, 'demo-token');
    if (given === undefined) await writeFile(tokenFile, `${seed.token}\n`, { mode: 0o600 });
    printLine(
      io.stderr,
      '\nDemo seeded (users alice and bob). Federate this provider with a gateway as:\n' +
        `  sites:\n    - id: provider\n      url: ${provider.url}\n` +
        `  with the token ${given === undefined ? `in ${tokenFile}` : 'from PROVIDER_DEMO_TOKEN'} ` +
        '(e.g. in MOODLE_SITE_PROVIDER_TOKEN).\n',
    );
  }

  stopOnSignals(() => provider.close(), logger);
}
