import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { runProviderCleanup } from '../provider/cleanup-job.js';
import { createSqliteStore } from '../provider/store/sqlite-store.js';
import { CliError, type CliIo, EXIT, printLine } from './cli-io.js';
import { formatBytes } from './format-units.js';
import { type ConfigFlags, loadCliConfig } from './load-cli-config.js';

export interface CleanupFlags extends ConfigFlags {
  /** @default `provider.dataDir` of the configuration */
  readonly dataDir?: string;
  /** @default `provider.cleanup.maxAgeHours` of the configuration */
  readonly maxAgeHours?: number;
  readonly json?: boolean;
}

/**
 * `moodle-gateway cleanup`: runs the local provider's cleanup now (old generated zips, then blobs
 * nothing points to), as its cron does. Safe beside a running gateway: SQLite serialises the writes
 * and zips being downloaded are kept.
 */
export async function cleanupCommand(flags: CleanupFlags, io: CliIo): Promise<number> {
  const config = await loadCliConfig(flags, io.env);
  const dataDir = resolve(flags.dataDir ?? config.provider.dataDir);
  // Opening the store would create an empty one: a mistyped directory must not look cleaned.
  if (!existsSync(join(dataDir, 'provider.sqlite'))) {
    throw new CliError(
      `No provider store in ${dataDir} (provider.sqlite not found): nothing to clean`,
      EXIT.usage,
    );
  }
  const maxAgeHours = flags.maxAgeHours ?? config.provider.cleanup.maxAgeHours;
  const store = await createSqliteStore({ dataDir, logger: pino({ level: 'silent' }) });
  try {
    const result = await runProviderCleanup({ store, maxAgeMs: maxAgeHours * 3_600_000 });
    if (flags.json) {
      printLine(io.stdout, JSON.stringify({ dataDir, maxAgeHours, ...result }, null, 2));
    } else {
      const kept =
        result.skippedZipsUnderRead > 0 ? ` (${result.skippedZipsUnderRead} kept: being downloaded)` : '';
      printLine(
        io.stdout,
        `Cleaned ${dataDir}: deleted ${result.deletedZips} zip(s) older than ${maxAgeHours} h${kept}; ` +
          `freed ${result.freedBlobs} unreferenced blob(s), ${formatBytes(result.freedBytes)}.`,
      );
    }
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
