import { stringify } from 'yaml';
import type { GatewayConfig } from '../config/config-schema.js';
import { maskSecrets } from '../config/mask-secrets.js';
import { type CliIo, EXIT, printLine } from './cli-io.js';
import { type ConfigFlags, loadCliConfig } from './load-cli-config.js';

export interface ConfigCheckFlags extends ConfigFlags {
  readonly json?: boolean;
}

/**
 * `moodle-gateway config check`: validates the configuration exactly as `serve` loads it (file,
 * environment, `MOODLE_SITES`), prints what it would run with, secrets masked, then warnings.
 * An invalid configuration is reported field by field, with exit code 2.
 */
export async function configCheckCommand(flags: ConfigCheckFlags, io: CliIo): Promise<number> {
  const config = await loadCliConfig(flags, io.env);
  const masked = maskSecrets(config);
  printLine(io.stdout, flags.json ? JSON.stringify(masked, null, 2) : stringify(masked).trimEnd());
  const warnings = configWarnings(config, io.env, flags.config);
  for (const warning of warnings) printLine(io.stderr, `warning: ${warning}`);
  printLine(
    io.stderr,
    `Configuration valid${warnings.length > 0 ? ` (${warnings.length} warning(s))` : ''}.`,
  );
  return EXIT.ok;
}

/** What is valid but probably not what the operator wants. */
export function configWarnings(
  config: GatewayConfig,
  env: Readonly<Record<string, string | undefined>>,
  file: string | undefined,
): string[] {
  const warnings: string[] = [];
  if (file === undefined && !env.MOODLE_GATEWAY_CONFIG?.trim() && !env.MOODLE_SITES?.trim()) {
    warnings.push('no --config, MOODLE_GATEWAY_CONFIG or MOODLE_SITES: this is the embedded demo');
  }
  if (config.downloadLinks.secret === undefined) {
    warnings.push(
      'no downloadLinks.secret (GATEWAY_LINK_SECRET): download links die with the process and are not ' +
        'shared between gateways behind a load balancer',
    );
  }
  if (config.provider.enabled && config.provider.federateAs !== null && !config.provider.seedDemo) {
    warnings.push('provider.federateAs needs provider.seedDemo: the provider will not be federated');
  }
  for (const site of config.sites) {
    if (site.url.startsWith('http://') && !/^http:\/\/(localhost|127\.|\[::1\])/.test(site.url)) {
      warnings.push(`site ${site.id}: ${site.url} is plain http: its token crosses the network in clear`);
    }
  }
  if (config.sites.length === 0 && !(config.provider.enabled && config.provider.federateAs !== null)) {
    warnings.push('no sites configured: the gateway will federate nothing');
  }
  return warnings;
}
