import { ConfigError, loadConfig } from './config/load-config.js';
import { createLogger } from './server/logger.js';
import { startGateway } from './server/start-gateway.js';

async function main(): Promise<void> {
  let config: Awaited<ReturnType<typeof loadConfig>>;
  try {
    config = await loadConfig({ argv: process.argv.slice(2), env: process.env });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  const gateway = await startGateway(config, logger);
  const graphql = new URL('/graphql', gateway.url);
  logger.info(
    { url: graphql.toString(), sites: gateway.registry.list('default').map((s) => s.id) },
    'gateway ready',
  );
  if (gateway.demoToken !== null) {
    console.error(
      `\nmoodle-gateway demo: open ${graphql} and try\n` +
        '  { externalSites { id name info { __typename ... on SiteInfo { sitename release } } } }\n' +
        '  { privateFilesZip(site: "local", username: "alice") { __typename ... on PrivateFilesZip { filename downloadUrl } ... on SiteFailure { code message } } }\n',
    );
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
