import { createLogger, shouldPrettyPrint } from '../server/logger.js';
import { startGateway } from '../server/start-gateway.js';
import { type CliIo, printLine } from './cli-io.js';
import { type ConfigFlags, loadCliConfig } from './load-cli-config.js';
import { stopOnSignals } from './stop-on-signals.js';

/**
 * `moodle-gateway serve`: runs the gateway until SIGTERM or SIGINT, then shuts down gracefully
 * (in-flight requests and downloads get `server.shutdownGraceMs`).
 */
export async function serveCommand(flags: ConfigFlags, io: CliIo): Promise<void> {
  const config = await loadCliConfig(flags, io.env);
  const logger = createLogger({ level: config.logLevel, pretty: shouldPrettyPrint(io.env) });
  const gateway = await startGateway(config, logger);
  const graphql = new URL('/graphql', gateway.url);
  logger.info(
    { url: graphql.toString(), sites: gateway.registry.list('default').map((site) => site.id) },
    'gateway ready',
  );
  if (gateway.demoToken !== null) {
    printLine(
      io.stderr,
      `\nmoodle-gateway demo: open ${new URL('/', graphql)} for the page (sign in with a key or a user's token),\n` +
        `or ${graphql} and try\n` +
        '  { externalSites { id name info { __typename ... on SiteInfo { sitename release } } } }\n' +
        '  { privateFilesZip(site: "local", username: "alice") { __typename ... on PrivateFilesZip { filename downloadUrl } ... on SiteFailure { code message } } }\n',
    );
  }
  if (gateway.demoAdminKey !== null) {
    // Made up for the demo only, when no caller is configured; on the terminal once, never in the logs.
    printLine(
      io.stderr,
      `Demo admin API key (shown once): send "Authorization: Bearer ${gateway.demoAdminKey}"\n`,
    );
  }

  stopOnSignals(() => gateway.close(), logger);
}
