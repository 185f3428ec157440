import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { sha256Hex } from '../auth/authenticate.js';
import { type GatewayConfig, gatewayConfigSchema } from './config-schema.js';
import { LegacySitesError, parseLegacySites } from './legacy-sites.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    /** One line per bad field: `sites.0.url: must be an http(s) URL`. */
    readonly problems: readonly string[] = [],
  ) {
    super(problems.length > 0 ? `${message}\n  ${problems.join('\n  ')}` : message);
  }
}

export interface LoadConfigOptions {
  /** Command-line arguments; `--config <file>` names the configuration file. */
  readonly argv?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** With neither a file nor `MOODLE_SITES`, the gateway runs this: the provider, seeded, federated with itself. */
const EMBEDDED_DEMO = {
  provider: { enabled: true, seedDemo: true, federateAs: 'local' },
} as const;

export async function loadConfig({ argv = [], env = {} }: LoadConfigOptions = {}): Promise<GatewayConfig> {
  const path = configPathFrom(argv) ?? nonEmpty(env.MOODLE_GATEWAY_CONFIG);
  const legacySites = nonEmpty(env.MOODLE_SITES);
  const raw =
    path !== undefined ? await readConfigFile(path) : legacySites !== undefined ? {} : EMBEDDED_DEMO;
  const input = applyEnvironment(structuredClone(raw), env);
  const parsed = gatewayConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      `Invalid configuration${path !== undefined ? ` in ${path}` : ''}:`,
      describeIssues(parsed.error.issues),
    );
  }
  return parsed.data;
}

function configPathFrom(argv: readonly string[]): string | undefined {
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--config') {
      const next = argv[index + 1];
      if (next === undefined || next.startsWith('--')) throw new ConfigError('--config needs a file path');
      return next;
    }
    if (arg?.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return undefined;
}

async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(resolve(path), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`Cannot read the configuration file ${path} (${code})`);
  }
  try {
    const isYaml = ['.yaml', '.yml'].includes(extname(path).toLowerCase());
    const value: unknown = isYaml ? parseYaml(text) : JSON.parse(text);
    return value ?? {};
  } catch (error) {
    throw new ConfigError(`The configuration file ${path} is not valid: ${(error as Error).message}`);
  }
}

type Mutable = Record<string, unknown>;

function section(target: Mutable, key: string): Mutable {
  const current = target[key];
  if (current !== null && typeof current === 'object' && !Array.isArray(current)) return current as Mutable;
  const created: Mutable = {};
  target[key] = created;
  return created;
}

function applyEnvironment(raw: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const config = raw as Mutable;
  const port = nonEmpty(env.PORT);
  if (port !== undefined) section(config, 'server').port = envNumber('PORT', port);
  const host = nonEmpty(env.HOST);
  if (host !== undefined) section(config, 'server').host = host;
  const publicUrl = nonEmpty(env.GATEWAY_PUBLIC_URL);
  if (publicUrl !== undefined) section(config, 'server').publicUrl = publicUrl;
  const dataDir = nonEmpty(env.MOODLE_GATEWAY_DATA_DIR);
  if (dataDir !== undefined) section(config, 'provider').dataDir = dataDir;
  const linkSecret = nonEmpty(env.GATEWAY_LINK_SECRET);
  if (linkSecret !== undefined) section(config, 'downloadLinks').secret = linkSecret;
  const adminKey = nonEmpty(env.GATEWAY_ADMIN_API_KEY);
  if (adminKey !== undefined) {
    const auth = section(config, 'auth');
    const keys = Array.isArray(auth.apiKeys) ? auth.apiKeys : [];
    // Only the key's hash is kept, as for keys in the file.
    auth.apiKeys = [...keys, { id: 'env-admin', sha256: sha256Hex(adminKey), role: 'admin' }];
  }
  const logLevel = nonEmpty(env.LOG_LEVEL);
  if (logLevel !== undefined) config.logLevel = logLevel;

  const legacy = nonEmpty(env.MOODLE_SITES);
  if (legacy !== undefined) {
    try {
      const sites = Array.isArray(config.sites) ? config.sites : [];
      config.sites = [...sites, ...parseLegacySites(legacy)];
    } catch (error) {
      if (error instanceof LegacySitesError) throw new ConfigError('Invalid MOODLE_SITES:', [error.message]);
      throw error;
    }
  }
  // Tokens can come from the environment so that a configuration file holds no secret.
  if (Array.isArray(config.sites)) {
    for (const site of config.sites as Mutable[]) {
      if (site === null || typeof site !== 'object' || typeof site.id !== 'string') continue;
      const token = nonEmpty(env[`MOODLE_SITE_${site.id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_TOKEN`]);
      if (token !== undefined) site.token = token;
    }
  }
  return config;
}

function envNumber(name: string, value: string): number {
  if (!/^\d+$/.test(value))
    throw new ConfigError('Invalid environment:', [`${name}: must be a whole number`]);
  return Number(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${field}: ${issue.message}`;
  });
}
