import type { GatewayConfig } from '../config/config-schema.js';
import { withinDeadline } from '../gateway/fan-out.js';
import type { RegisteredSite } from '../gateway/site-registry.js';
import type { SiteFailureCode } from '../moodle/failures.js';
import { PRIVATE_FILES_ZIP_FUNCTION } from '../moodle/remote-site.js';
import { CliError, type CliIo, EXIT, printLine } from './cli-io.js';
import { formatTable } from './format-table.js';
import { formatDuration } from './format-units.js';
import { type ConfigFlags, loadCliConfig } from './load-cli-config.js';
import { type CliRegistry, openCliRegistry } from './sites-registry-command.js';

export interface SitesFlags extends ConfigFlags {
  readonly json?: boolean;
  /** Only this tenant's sites. @default every tenant */
  readonly tenant?: string;
}

export interface SitesCheckFlags extends SitesFlags {
  /** Overrides every site's site-info deadline. */
  readonly timeout?: number;
}

export interface SiteCheck {
  readonly tenant: string;
  readonly id: string;
  readonly url: string;
  /** The site's own name when it answered, else the configured one. */
  readonly name: string | null;
  readonly release: string | null;
  readonly latencyMs: number | null;
  readonly status: 'ok' | 'failed' | 'disabled';
  readonly code: SiteFailureCode | null;
  readonly message: string | null;
}

/**
 * `moodle-gateway sites check`: asks every configured and registered site for its info now, all at once, with each
 * site's deadline, and checks it offers what the gateway needs. Resolves to the exit code: non-zero
 * when an enabled site failed.
 */
export async function sitesCheckCommand(flags: SitesCheckFlags, io: CliIo): Promise<number> {
  const config = await loadCliConfig(flags, io.env);
  const registry = await openCliRegistry(config, io, 'list');
  let checks: SiteCheck[];
  try {
    const entries = sitesOf(registry, flags.tenant);
    checks = await Promise.all(
      entries.map((entry) =>
        checkSite(flags.timeout === undefined ? entry : withSiteInfoDeadline(entry, flags.timeout)),
      ),
    );
  } finally {
    await registry.close();
  }

  if (flags.json) {
    printLine(io.stdout, JSON.stringify(checks, null, 2));
  } else if (checks.length === 0) {
    printLine(io.stdout, 'No sites configured or registered.');
  } else {
    const tenants = new Set(checks.map((check) => check.tenant)).size > 1;
    printLine(
      io.stdout,
      formatTable(
        [...(tenants ? ['TENANT'] : []), 'ID', 'NAME', 'RELEASE', 'LATENCY', 'STATUS', 'CODE', 'MESSAGE'],
        checks.map((check) => [
          ...(tenants ? [check.tenant] : []),
          check.id,
          check.name ?? '-',
          check.release ?? '-',
          check.latencyMs === null ? '-' : formatDuration(check.latencyMs),
          check.status,
          check.code ?? '-',
          check.message ?? '',
        ]),
      ),
    );
  }
  noteEmbeddedProvider(config, io);
  const failed = checks.filter((check) => check.status === 'failed');
  if (!flags.json && checks.length > 0) {
    printLine(
      io.stderr,
      failed.length === 0
        ? `\nAll ${checks.filter((check) => check.status === 'ok').length} enabled site(s) answered.`
        : `\n${failed.length} enabled site(s) failed: ${failed.map((check) => check.id).join(', ')}.`,
    );
  }
  return failed.length === 0 ? EXIT.ok : EXIT.failed;
}

async function checkSite(entry: RegisteredSite): Promise<SiteCheck> {
  const base = { tenant: entry.tenant, id: entry.id, url: entry.url, name: entry.name };
  if (!entry.enabled) {
    return {
      ...base,
      release: null,
      latencyMs: null,
      status: 'disabled',
      code: null,
      message: 'not checked: disabled',
    };
  }
  const started = performance.now();
  const result = await withinDeadline(entry, (e) => e.site.getSiteInfo(), {
    deadlineMs: (e) => e.timeouts.siteInfoMs,
  });
  const latencyMs = Math.round(performance.now() - started);
  if (!result.ok) {
    const { code, message } = result.failure;
    return { ...base, release: null, latencyMs, status: 'failed', code, message };
  }
  const info = result.value;
  const answered = { ...base, name: info.sitename, release: info.release, latencyMs };
  // What the gateway needs beyond a valid token: the service's function and its "can download files".
  if (!info.functions.some((fn) => fn.name === PRIVATE_FILES_ZIP_FUNCTION)) {
    return {
      ...answered,
      status: 'failed',
      code: 'FUNCTION_UNAVAILABLE',
      message: `the token's service does not include ${PRIVATE_FILES_ZIP_FUNCTION}`,
    };
  }
  if (!info.downloadfiles) {
    return {
      ...answered,
      status: 'failed',
      code: 'ACCESS_DENIED',
      message: 'the token\'s service cannot download files: turn on "Can download files"',
    };
  }
  return { ...answered, status: 'ok', code: null, message: null };
}

function withSiteInfoDeadline(entry: RegisteredSite, timeoutMs: number): RegisteredSite {
  return { ...entry, timeouts: { ...entry.timeouts, siteInfoMs: timeoutMs } };
}

/** The configured and registered sites, by tenant, then in the order the gateway lists them. */
function sitesOf(registry: CliRegistry, tenant: string | undefined): RegisteredSite[] {
  const tenants = registry.hub.tenants().map((known) => known.id);
  if (tenant !== undefined && !tenants.includes(tenant)) {
    throw new CliError(
      `No tenant "${tenant}": neither the configuration nor the registry names it`,
      EXIT.usage,
    );
  }
  return tenants
    .filter((known) => tenant === undefined || known === tenant)
    .sort((a, b) => a.localeCompare(b))
    .flatMap((known) => registry.sites.list(known, { includeDisabled: true }));
}

export function noteEmbeddedProvider(config: GatewayConfig, io: CliIo): void {
  const { enabled, federateAs, seedDemo } = config.provider;
  if (enabled && federateAs !== null && seedDemo) {
    printLine(
      io.stderr,
      `Note: the embedded local provider joins as site "${federateAs}" once the gateway runs; it is not listed or checked here.`,
    );
  }
}
