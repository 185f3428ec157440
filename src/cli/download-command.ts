import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { constants, createWriteStream } from 'node:fs';
import { access, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pino } from 'pino';
import type { GatewayConfig } from '../config/config-schema.js';
import { zipFileName } from '../gateway/zip-file-name.js';
import { createAgent } from '../moodle/agent.js';
import type { SiteFailure } from '../moodle/failures.js';
import { PRIVATE_FILES_ZIP_FUNCTION } from '../moodle/remote-site.js';
import { remoteEntry } from '../server/remote-entry.js';
import { CliError, type CliIo, EXIT, printLine } from './cli-io.js';
import { formatBytes, formatDuration } from './format-units.js';
import { type ConfigFlags, loadCliConfig } from './load-cli-config.js';
import { createProgressBar } from './progress-bar.js';

export interface DownloadFlags extends ConfigFlags {
  readonly site: string;
  readonly user: string;
  /** @default the name the gateway gives it, in the current directory */
  readonly out?: string;
  /** @default 'default' */
  readonly tenant?: string;
  /** Replace `--out` when it exists. */
  readonly force?: boolean;
}

/**
 * `moodle-gateway download`: asks the site to zip a user's private files and streams the zip to a
 * file, never holding it in memory. The file appears complete or not at all: bytes go to a temp
 * file beside it, flushed to disk, then renamed. Resolves to the exit code.
 */
export async function downloadCommand(
  flags: DownloadFlags,
  io: CliIo,
  signal?: AbortSignal,
): Promise<number> {
  const config = await loadCliConfig(flags, io.env);
  const tenant = flags.tenant ?? 'default';
  const site = findSite(config, tenant, flags.site);
  if (flags.out !== undefined && !flags.force && (await exists(flags.out))) {
    throw new CliError(
      `${flags.out} already exists: choose another --out, or add --force to replace it`,
      EXIT.usage,
    );
  }

  const agent = createAgent({ connectTimeoutMs: config.timeouts.connectMs });
  try {
    const entry = remoteEntry(config, agent, pino({ level: 'silent' }), site, site.url);
    const callOptions = signal === undefined ? {} : { signal };
    const info = await entry.site.getSiteInfo(callOptions);
    if (info.ok && !info.value.functions.some((fn) => fn.name === PRIVATE_FILES_ZIP_FUNCTION)) {
      return failed(io, site.id, {
        code: 'FUNCTION_UNAVAILABLE',
        message: `the token's service does not include ${PRIVATE_FILES_ZIP_FUNCTION}`,
      });
    }
    printLine(io.stderr, `Asking ${site.id} to zip the private files of ${JSON.stringify(flags.user)}…`);
    const zip = await entry.site.createPrivateFilesZip(flags.user, callOptions);
    if (!zip.ok) return failed(io, site.id, zip.failure);

    const siteName = info.ok ? info.value.sitename : (site.name ?? site.id);
    const out = resolve(flags.out ?? zipFileName(config.zipFileName, siteName, new Date()));
    const opened = await entry.site.openDownload(zip.value.relativepath, callOptions);
    if (!opened.ok) return failed(io, site.id, opened.failure);

    const { body, contentLength } = opened.value;
    const progress = createProgressBar({ stream: io.stderr, total: contentLength });
    try {
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          progress.advance(chunk.length);
          done(null, chunk);
        },
      });
      await writeAtomically(
        out,
        (sink) => (signal ? pipeline(body, counter, sink, { signal }) : pipeline(body, counter, sink)),
        { replace: flags.force === true },
      );
    } catch (error) {
      progress.clear();
      if (signal?.aborted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      printLine(
        io.stderr,
        `Download failed: ${site.id}: the transfer broke after ${formatBytes(progress.bytes)} (${message}); nothing was saved.`,
      );
      return EXIT.failed;
    }
    progress.clear();
    if (contentLength !== null && progress.bytes !== contentLength) {
      await rm(out, { force: true });
      printLine(
        io.stderr,
        `Download failed: ${site.id}: received ${progress.bytes} of ${contentLength} bytes; nothing was saved.`,
      );
      return EXIT.failed;
    }
    const ms = progress.elapsedMs();
    const rate = ms > 0 ? `, ${formatBytes(Math.round((progress.bytes * 1000) / ms))}/s` : '';
    printLine(io.stderr, `Saved ${formatBytes(progress.bytes)} in ${formatDuration(ms)}${rate}.`);
    printLine(io.stdout, out);
    return EXIT.ok;
  } finally {
    await agent.close();
  }
}

function findSite(config: GatewayConfig, tenant: string, id: string) {
  const site = config.sites.find((candidate) => candidate.tenant === tenant && candidate.id === id);
  if (site === undefined) {
    const known = config.sites
      .filter((candidate) => candidate.tenant === tenant)
      .map((candidate) => candidate.id);
    throw new CliError(
      `No site "${id}" for tenant "${tenant}" in the configuration${known.length > 0 ? ` (configured: ${known.join(', ')})` : ''}`,
      EXIT.usage,
    );
  }
  if (!site.enabled) throw new CliError(`The site "${id}" is disabled in the configuration`, EXIT.usage);
  return site;
}

function failed(io: CliIo, site: string, failure: Pick<SiteFailure, 'code' | 'message'>): number {
  printLine(io.stderr, `Download failed: ${site}: ${failure.code}: ${failure.message}`);
  return EXIT.failed;
}

async function exists(path: string): Promise<boolean> {
  return access(path, constants.F_OK).then(
    () => true,
    () => false,
  );
}

/**
 * Streams into a temp file in the target's directory (so the rename stays on one file system),
 * flushes it to disk, then renames it over the target. On any failure the temp file is removed.
 */
export async function writeAtomically(
  target: string,
  fill: (sink: Writable) => Promise<void>,
  { replace = false }: { readonly replace?: boolean } = {},
): Promise<void> {
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.part`);
  try {
    // Private files: readable by their owner only, whatever the umask. `flush` fsyncs before closing.
    const sink = createWriteStream(temp, { flags: 'wx', mode: 0o600, flush: true });
    await fill(sink);
    if (!sink.closed) await once(sink, 'close');
    if (!replace && (await exists(target))) throw new Error(`${target} appeared meanwhile`);
    await rename(temp, target);
    await syncDirectory(dirname(target));
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function syncDirectory(path: string): Promise<void> {
  // Makes the rename itself durable; not every platform lets a directory be opened, hence best effort.
  try {
    const directory = await open(path, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  } catch {
    /* best effort */
  }
}
