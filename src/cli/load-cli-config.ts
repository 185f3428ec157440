import type { GatewayConfig } from '../config/config-schema.js';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { CliError, EXIT } from './cli-io.js';

export interface ConfigFlags {
  /** `--config <file>`; else `MOODLE_GATEWAY_CONFIG`, `MOODLE_SITES`, or the embedded demo. */
  readonly config?: string;
  /** `--port <n>`: wins over `PORT` and the file. */
  readonly port?: number;
}

/** Loads the configuration as `serve` would, turning a configuration problem into a usage error. */
export async function loadCliConfig(
  flags: ConfigFlags,
  env: Readonly<Record<string, string | undefined>>,
): Promise<GatewayConfig> {
  const effectiveEnv = flags.port === undefined ? env : { ...env, PORT: String(flags.port) };
  try {
    return await loadConfig({
      argv: flags.config === undefined ? [] : ['--config', flags.config],
      env: effectiveEnv,
    });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, EXIT.usage);
    throw error;
  }
}

/** Commander's parser for `--port`: a whole number from 0 to 65535. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new CliError(
      `--port must be a whole number from 0 to 65535, not ${JSON.stringify(value)}`,
      EXIT.usage,
    );
  return port;
}

/** Commander's parser for a positive whole number (`--timeout 5000`). */
export function parsePositiveInt(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < 1)
      throw new CliError(`${name} must be a positive whole number, not ${JSON.stringify(value)}`, EXIT.usage);
    return parsed;
  };
}

/** Commander's parser for a whole number, negative ones too (`--priority -5`). */
export function parseInteger(name: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value)))
      throw new CliError(`${name} must be a whole number, not ${JSON.stringify(value)}`, EXIT.usage);
    return Number(value);
  };
}
