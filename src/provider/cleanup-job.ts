import { createTask, type ScheduledTask, validate } from 'node-cron';
import type { Logger } from 'pino';
import type { ProviderStore } from './store/repository.js';

export interface ProviderCleanupOptions {
  readonly store: ProviderStore;
  /** Generated zips older than this are deleted; a client has had its chance to fetch them. @default 86_400_000 (24 h) */
  readonly maxAgeMs?: number;
  /**
   * Unreferenced blobs younger than this are kept: a write may have stored the blob without yet
   * committing its row. @default 3_600_000 (1 h)
   */
  readonly orphanGraceMs?: number;
  readonly logger?: Logger;
  /** Told after every run, whatever its outcome (metrics). Must not throw. */
  readonly onRun?: (event: CleanupRunEvent) => void;
}

export interface CleanupRunEvent {
  /** `null` when the run failed. */
  readonly result: CleanupResult | null;
  readonly seconds: number;
  /** When the run ended, in milliseconds since the epoch. */
  readonly at: number;
}

export interface CleanupResult {
  readonly deletedZips: number;
  /** Old zips kept because a download was reading them; the next run takes them. */
  readonly skippedZipsUnderRead: number;
  readonly freedBlobs: number;
  readonly freedBytes: number;
}

export interface CleanupJobOptions extends ProviderCleanupOptions {
  /** When to run (node-cron syntax, server time). @default '0 * * * *' (hourly) */
  readonly cron?: string;
  /** @default undefined (server time zone) */
  readonly timezone?: string;
}

export interface CleanupJob {
  /** Schedules the runs; calling it again does nothing. */
  start(): void;
  /** Unschedules and waits for a run in progress. */
  stop(): Promise<void>;
  /** Runs now; a call during a run shares that run instead of starting another. */
  runOnce(): Promise<CleanupResult>;
}

const DEFAULT_MAX_AGE_MS = 86_400_000;
const DEFAULT_GRACE_MS = 3_600_000;

/** One cleanup pass: old generated zips (not under read), then blobs nothing points to. */
export async function runProviderCleanup(options: ProviderCleanupOptions): Promise<CleanupResult> {
  const started = performance.now();
  const report = (result: CleanupResult | null) =>
    options.onRun?.({ result, seconds: (performance.now() - started) / 1000, at: Date.now() });
  try {
    const result = await cleanupPass(options);
    report(result);
    return result;
  } catch (error) {
    report(null);
    throw error;
  }
}

async function cleanupPass(options: ProviderCleanupOptions): Promise<CleanupResult> {
  const { store, maxAgeMs = DEFAULT_MAX_AGE_MS, orphanGraceMs = DEFAULT_GRACE_MS, logger } = options;
  const cutoff = store.now() - Math.floor(maxAgeMs / 1000);
  let deletedZips = 0;
  let skippedZipsUnderRead = 0;
  for (const zip of await store.zips.listOlderThan(cutoff)) {
    if (await store.zips.delete(zip.id)) deletedZips++;
    else if (store.zips.isBeingRead(zip.id)) skippedZipsUnderRead++;
  }
  const { freedBlobs, freedBytes } = await store.sweepOrphanBlobs({ graceMs: orphanGraceMs });
  const result = { deletedZips, skippedZipsUnderRead, freedBlobs, freedBytes };
  logger?.info(result, 'provider cleanup done');
  return result;
}

export function createCleanupJob(options: CleanupJobOptions): CleanupJob {
  const { cron = '0 * * * *', timezone, logger } = options;
  if (!validate(cron)) throw new TypeError(`Not a valid cron expression: ${JSON.stringify(cron)}`);
  let running: Promise<CleanupResult> | null = null;
  let task: ScheduledTask | null = null;

  function runOnce(): Promise<CleanupResult> {
    running ??= runProviderCleanup(options).finally(() => {
      running = null;
    });
    return running;
  }

  return {
    start() {
      if (task) return;
      task = createTask(
        cron,
        async () => {
          try {
            await runOnce();
          } catch (error) {
            logger?.error({ err: error }, 'provider cleanup failed');
          }
        },
        { name: 'provider-cleanup', noOverlap: true, timezone },
      );
      void task.start();
    },
    async stop() {
      const current = task;
      task = null;
      await current?.destroy();
      await running?.catch(() => undefined);
    },
    runOnce,
  };
}
