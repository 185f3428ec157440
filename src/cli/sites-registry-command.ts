import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Logger, pino } from 'pino';
import type { GatewayConfig, SiteConfig } from '../config/config-schema.js';
import { type SiteHub, SiteHubError, type SiteRegistration } from '../gateway/site-hub.js';
import { createSiteRegistry, type RegisteredSite, type SiteRegistry } from '../gateway/site-registry.js';
import { RegistrySchemaTooNewError, registryFile } from '../gateway/sqlite-registry-store.js';
import { createAgent } from '../moodle/agent.js';
import { PRIVATE_FILES_ZIP_FUNCTION } from '../moodle/remote-site.js';
import { remoteEntry } from '../server/remote-entry.js';
import { openSiteHub, registryLocation } from '../server/site-hub-wiring.js';
import { CliError, type CliIo, EXIT, printLine } from './cli-io.js';
import { formatTable } from './format-table.js';
import { formatDuration } from './format-units.js';
import { type ConfigFlags, loadCliConfig } from './load-cli-config.js';
import { readToken, type TokenFlags } from './read-token.js';
import { noteEmbeddedProvider } from './sites-command.js';

/*
 * `moodle-gateway sites add|remove|list`: the same persisted registry the gateway serves, reached
 * through the same site hub (`openSiteHub`), so that a site added here was asked first and is
 * validated, stored and refused exactly as `registerSite` does it.
 */

export interface SitesListFlags extends ConfigFlags {
  readonly json?: boolean;
  /** Only this tenant's sites. @default every tenant */
  readonly tenant?: string;
}

export interface SitesAddFlags extends ConfigFlags, TokenFlags {
  readonly url: string;
  readonly name?: string;
  /** @default `default` */
  readonly tenant?: string;
  /** @default derived from the URL */
  readonly id?: string;
  readonly priority?: number;
  readonly json?: boolean;
}

export interface SitesRemoveFlags extends ConfigFlags {
  /** @default `default` */
  readonly tenant?: string;
  readonly json?: boolean;
}

/** A site as the command line shows it: never its token, at most its last characters. */
export interface ListedSite {
  readonly tenant: string;
  readonly id: string;
  readonly name: string | null;
  readonly url: string;
  readonly priority: number;
  readonly enabled: boolean;
  readonly visible: boolean;
  readonly trusted: boolean;
  /** `config`: read-only here, changed in the configuration; `registry`: added at run time. */
  readonly source: 'config' | 'registry';
  readonly readOnly: boolean;
  readonly maskedToken: string | null;
  /** What the site said of itself when it was registered; null for configuration sites. */
  readonly release: string | null;
  readonly registeredAt: string | null;
}

/** Said after every change: when a gateway already running on this registry serves it. */
export function runningGatewayNote(config: GatewayConfig): string {
  const { watchMs } = config.registry;
  return watchMs > 0
    ? `A gateway running on this registry takes this change into account within about ${formatDuration(watchMs)} ` +
        '(registry.watchMs); its GraphQL mutations (registerSite, removeSite) change it at once.'
    : 'A running gateway keeps its own copy of the registry (registry.watchMs is 0): it serves this ' +
        'change from its next start. To change a running gateway at once, use its GraphQL mutations ' +
        '(registerSite, removeSite) instead.';
}

const DEFAULT_TENANT = 'default';

/** `moodle-gateway sites add`: asks the site, then saves it in the registry, or answers its failure. */
export async function sitesAddCommand(flags: SitesAddFlags, io: CliIo): Promise<number> {
  const config = await loadCliConfig(flags, io.env);
  const token = await readToken(flags, io);
  const tenant = flags.tenant ?? DEFAULT_TENANT;
  const registry = await openCliRegistry(config, io, 'add');
  try {
    const result = await hubCall(tenant, () =>
      registry.hub.register({
        tenant,
        url: flags.url,
        token,
        ...(flags.id !== undefined && { id: flags.id }),
        ...(flags.name !== undefined && { name: flags.name }),
        ...(flags.priority !== undefined && { priority: flags.priority }),
      }),
    );
    if (!result.ok) {
      const { code, message, retryable } = result.failure;
      if (flags.json) {
        printLine(io.stdout, JSON.stringify({ code, message, retryable, siteUrl: flags.url }, null, 2));
      }
      printLine(
        io.stderr,
        `The site refused: ${code}: ${message}\nNothing was saved: ${flags.url} must answer ` +
          'core_webservice_get_site_info with this token (`moodle-gateway sites add --help`).',
      );
      return EXIT.failed;
    }
    const site = listed(result.value, registry.hub.describe(result.value.tenant, result.value.id));
    if (flags.json) {
      printLine(io.stdout, JSON.stringify(site, null, 2));
    } else {
      printLine(io.stdout, `Registered site "${site.id}" in tenant "${site.tenant}" (${registry.where}).`);
      const facts: [string, string][] = [
        ['name', site.name ?? '-'],
        ['url', site.url],
        ['release', site.release ?? '-'],
        ['priority', String(site.priority)],
        ['token', site.maskedToken ?? '-'],
      ];
      for (const [label, value] of facts) printLine(io.stdout, `  ${label.padEnd(9)}${value}`);
    }
    const recorded = registry.hub.describe(site.tenant, site.id)?.recorded;
    if (recorded && !recorded.functions.some((fn) => fn.name === PRIVATE_FILES_ZIP_FUNCTION)) {
      printLine(
        io.stderr,
        `Warning: the token's service does not include ${PRIVATE_FILES_ZIP_FUNCTION}: ` +
          'the site is listed, but no files can be retrieved from it until the service offers it.',
      );
    }
    printLine(io.stderr, runningGatewayNote(config));
    return EXIT.ok;
  } finally {
    await registry.close();
  }
}

/** `moodle-gateway sites remove`: removes a registered site; configuration sites are refused. */
export async function sitesRemoveCommand(id: string, flags: SitesRemoveFlags, io: CliIo): Promise<number> {
  const config = await loadCliConfig(flags, io.env);
  const tenant = flags.tenant ?? DEFAULT_TENANT;
  const federated = config.provider.enabled ? config.provider.federateAs : null;
  if (tenant === DEFAULT_TENANT && id === federated) {
    throw new CliError(
      `The site "${id}" is the embedded local provider, joined from the configuration ` +
        '(provider.federateAs): change it there',
      EXIT.failed,
    );
  }
  const registry = await openCliRegistry(config, io, 'remove');
  try {
    await hubCall(tenant, () => registry.hub.remove(tenant, id));
  } finally {
    await registry.close();
  }
  if (flags.json) printLine(io.stdout, JSON.stringify({ tenant, id, removed: true }, null, 2));
  else
    printLine(io.stdout, `Removed site "${id}" of tenant "${tenant}" from the registry (${registry.where}).`);
  printLine(io.stderr, runningGatewayNote(config));
  return EXIT.ok;
}

/** `moodle-gateway sites list`: configured and registered sites, marked by source, never their tokens. */
export async function sitesListCommand(flags: SitesListFlags, io: CliIo): Promise<number> {
  const config = await loadCliConfig(flags, io.env);
  const registry = await openCliRegistry(config, io, 'list');
  let sites: ListedSite[];
  try {
    const tenants = registry.hub.tenants().map((tenant) => tenant.id);
    if (flags.tenant !== undefined && !tenants.includes(flags.tenant)) {
      throw new CliError(
        `No tenant "${flags.tenant}": neither the configuration nor the registry names it`,
        EXIT.usage,
      );
    }
    sites = tenants
      .filter((tenant) => flags.tenant === undefined || tenant === flags.tenant)
      .flatMap((tenant) =>
        registry.sites
          .list(tenant, { includeDisabled: true })
          .map((entry) => listed(entry, registry.hub.describe(tenant, entry.id))),
      );
  } finally {
    await registry.close();
  }

  if (flags.json) {
    printLine(io.stdout, JSON.stringify(sites, null, 2));
  } else if (sites.length === 0) {
    printLine(io.stdout, 'No sites configured or registered.');
  } else {
    printLine(
      io.stdout,
      formatTable(
        ['TENANT', 'ID', 'NAME', 'URL', 'PRIORITY', 'ENABLED', 'VISIBLE', 'SOURCE'],
        sites.map((site) => [
          site.tenant,
          site.id,
          site.name ?? '-',
          site.url,
          String(site.priority),
          site.enabled ? 'yes' : 'no',
          site.visible ? 'yes' : 'no',
          site.source,
        ]),
      ),
    );
  }
  printLine(io.stderr, `Registered sites: ${registry.where}.`);
  noteEmbeddedProvider(config, io);
  return EXIT.ok;
}

function listed(entry: RegisteredSite, registration: SiteRegistration | undefined): ListedSite {
  return {
    tenant: entry.tenant,
    id: entry.id,
    name: entry.name,
    url: entry.url,
    priority: entry.priority,
    enabled: entry.enabled,
    visible: entry.visible !== false,
    trusted: entry.trusted !== false,
    source: registration?.source ?? 'config',
    readOnly: registration?.readOnly ?? true,
    maskedToken: registration?.maskedToken ?? null,
    release: registration?.recorded?.release ?? null,
    registeredAt: registration?.registeredAt?.toISOString() ?? null,
  };
}

export interface CliRegistry {
  readonly hub: SiteHub;
  /** The configuration's sites and the registered ones. */
  readonly sites: SiteRegistry;
  /** Where the registry is, in words: its file, or why there is none. */
  readonly where: string;
  close(): Promise<void>;
}

/**
 * What a command does with the registry: `add` creates it where the gateway would; `remove` changes
 * it only when it exists; both refuse a configuration whose gateway keeps its registry in memory.
 * `list` only reads: with no file, only the configuration's sites are listed.
 */
type RegistryUse = 'add' | 'remove' | 'list';

/** The registry the gateway would open with this configuration, through the same hub. */
export async function openCliRegistry(
  config: GatewayConfig,
  io: CliIo,
  use: RegistryUse,
): Promise<CliRegistry> {
  const location = registryLocation(config);
  if (location === null && use !== 'list') {
    throw new CliError(
      'With this configuration the gateway keeps its site registry in memory (no registry.dataDir, no ' +
        'provider), so a site saved here would never reach it. Set registry.dataDir in the configuration ' +
        "(the gateway's and this command's), or register the site on the running gateway with the " +
        'GraphQL registerSite mutation.',
      EXIT.usage,
    );
  }
  const file = location === null ? null : resolve(registryFile(location));
  const persisted = location !== null && (use === 'add' || existsSync(file as string));
  const where =
    file === null
      ? 'none persisted (no registry.dataDir and no provider: a running gateway keeps its registered sites in memory; ask it with the GraphQL registrySites query)'
      : persisted
        ? file
        : `none yet (${file} does not exist)`;

  const agent = createAgent({ connectTimeoutMs: config.timeouts.connectMs });
  const logger = warningsTo(io);
  const toEntry = (site: SiteConfig) => remoteEntry(config, agent, logger, site, site.url);
  const sites = createSiteRegistry(config.sites.map(toEntry));
  try {
    const { hub, store } = await openSiteHub({
      config,
      dispatcher: agent,
      logger,
      registry: sites,
      dataDir: persisted ? location : null,
      toEntry,
    });
    return {
      hub,
      sites,
      where,
      async close() {
        await store.close();
        await agent.close();
      },
    };
  } catch (error) {
    await agent.close();
    if (error instanceof RegistrySchemaTooNewError) throw new CliError(`${file}: ${error.message}`);
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && (code.startsWith('SQLITE_') || FILE_ERRORS.has(code))) {
      throw new CliError(
        `Cannot open the site registry ${file}: ${(error as Error).message} ` +
          "(run this command as the gateway's user)",
      );
    }
    throw error;
  }
}

const FILE_ERRORS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'ENOENT', 'EISDIR']);

/** The hub's refusals as one clear message: a bad value is a usage error, the rest a failure. */
async function hubCall<T>(tenant: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof SiteHubError)) throw error;
    if (error.code === 'BAD_USER_INPUT') {
      const field = error.field;
      const message =
        field !== undefined && error.message.startsWith(`${field}: `)
          ? `--${field}: ${error.message.slice(field.length + 2)}`
          : error.message;
      throw new CliError(message, EXIT.usage);
    }
    const hint =
      error.code === 'CONFLICT'
        ? ' (--id names it otherwise)'
        : error.code === 'NOT_FOUND' && error.field === 'tenant'
          ? ": tenants are named by the configuration (its sites', its API keys') or created with the GraphQL createTenant mutation"
          : error.code === 'NOT_FOUND'
            ? ` in the registry of tenant "${tenant}"`
            : '';
    throw new CliError(`${capitalize(error.message)}${hint}`, EXIT.failed);
  }
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** Only what needs the operator's eye (a registered site that a configuration site now hides), on stderr. */
function warningsTo(io: CliIo): Logger {
  return pino(
    { level: 'warn', base: null, timestamp: false },
    {
      write(line: string) {
        const { level, msg, site, tenant } = JSON.parse(line) as {
          level: number;
          msg: string;
          site?: string;
          tenant?: string;
        };
        const about = site === undefined ? '' : ` (site "${site}" of tenant "${tenant ?? DEFAULT_TENANT}")`;
        printLine(io.stderr, `${level >= 50 ? 'Error' : 'Warning'}: ${msg}${about}`);
      },
    },
  );
}
