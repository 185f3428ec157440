import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { ZipArchive } from 'archiver';
import type { Logger } from 'pino';
import { fail, type Result, type SiteFailure, siteFailure } from '../moodle/failures.js';
import { failureInPlainWords } from './failure-words.js';
import { withinDeadline } from './fan-out.js';
import { ZIP_FUNCTION } from './private-files.js';
import type { ZipDescriptor } from './site.js';
import type { SiteInfoCache } from './site-info-cache.js';
import type { RegisteredSite } from './site-registry.js';
import { type ZipFileNameOptions, zipFileName } from './zip-file-name.js';

export interface BundleOptions {
  /** The sites to ask, in the order the user sees them. */
  readonly entries: readonly RegisteredSite[];
  readonly username: string;
  /**
   * Site info, shared with every request. Not a per-request DataLoader: a batch settles only when its
   * slowest site answers, and the bundle takes each site's zip as soon as it is there.
   */
  readonly siteInfoCache: SiteInfoCache;
  readonly fileName: ZipFileNameOptions;
  /** When the bundle was asked for: the time in every file name. */
  readonly at: Date;
  /** The client left: stop asking, stop reading. */
  readonly signal: AbortSignal;
  readonly logger?: Logger;
}

export interface BundleSummary {
  /** `name`: the name the site gives itself, else its configured name, else its id. */
  readonly included: readonly { readonly site: string; readonly name: string; readonly file: string }[];
  readonly failed: readonly { readonly site: string; readonly name: string; readonly failure: SiteFailure }[];
}

export interface PrivateFilesBundle {
  /** The zip, to pipe to the client; it errors when a site's zip breaks off half-way. */
  readonly archive: Readable;
  /** Settles when the archive is complete (or failed). */
  readonly summary: Promise<BundleSummary>;
}

interface Prepared {
  readonly entry: RegisteredSite;
  readonly siteName: string;
  readonly zip: Result<ZipDescriptor>;
}

export const BUNDLE_README = 'README.txt';

/** `{prefix}_all_sites_{stamp}.zip`: the block's naming, with every site in it. */
export function bundleFileName(options: ZipFileNameOptions, at: Date): string {
  return zipFileName({ ...options, includeSiteName: true }, 'all_sites', at);
}

/**
 * One zip holding each site's zip as the site made it (stored, not recompressed), plus a README.txt
 * naming the sites that failed and why. Every site is asked at once; their zips go in as they
 * arrive, one download at a time, streamed through: memory does not grow with their size.
 */
export function createPrivateFilesBundle(options: BundleOptions): PrivateFilesBundle {
  const { entries, username, siteInfoCache, signal, logger } = options;
  const archive = new ZipArchive({ store: true });
  const broken = new AbortController();
  archive.on('error', (error) => broken.abort(error));
  const stop = AbortSignal.any([signal, broken.signal]);

  const prepare = async (entry: RegisteredSite): Promise<Prepared> => {
    const fallbackName = entry.name ?? entry.id;
    try {
      const info = await withinDeadline(entry, (e) => siteInfoCache.get(e), {
        deadlineMs: (e) => e.timeouts.siteInfoMs,
        ...(logger && { logger }),
      });
      const siteName = info.ok ? info.value.sitename : fallbackName;
      if (info.ok && !info.value.functions.some((fn) => fn.name === ZIP_FUNCTION)) {
        const failure = siteFailure('FUNCTION_UNAVAILABLE', `${entry.id} does not offer ${ZIP_FUNCTION}`);
        return { entry, siteName, zip: fail(failure) };
      }
      const zip = await withinDeadline(entry, (e) => e.site.createPrivateFilesZip(username, { signal }), {
        deadlineMs: (e) => e.timeouts.zipMs,
        ...(logger && { logger }),
      });
      return { entry, siteName, zip };
    } catch (error) {
      logger?.error({ err: error, tenant: entry.tenant, site: entry.id }, 'unexpected error while zipping');
      const failure = siteFailure('REMOTE_ERROR', `unexpected error while asking ${entry.id}`);
      return { entry, siteName: fallbackName, zip: fail(failure) };
    }
  };

  const summary = (async (): Promise<BundleSummary> => {
    const arrived: Prepared[] = [];
    let wake: (() => void) | null = null;
    stop.addEventListener('abort', () => wake?.(), { once: true });
    for (const entry of entries) {
      void prepare(entry).then((prepared) => {
        arrived.push(prepared);
        wake?.();
      });
    }
    const included: { site: string; name: string; file: string }[] = [];
    const failed: { site: string; name: string; failure: SiteFailure }[] = [];
    const names = new Set<string>([BUNDLE_README]);
    try {
      for (let taken = 0; taken < entries.length; taken++) {
        while (arrived.length === 0) {
          stop.throwIfAborted();
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
        stop.throwIfAborted();
        const { entry, siteName, zip } = arrived.shift() as Prepared;
        const opened = zip.ok ? await entry.site.openDownload(zip.value.relativepath, { signal: stop }) : zip;
        if (!opened.ok) {
          failed.push({ site: entry.id, name: siteName, failure: opened.failure });
          continue;
        }
        let file = zipFileName(options.fileName, siteName, options.at);
        if (names.has(file)) file = `${entry.id}_${file}`;
        names.add(file);
        const body = opened.value.body;
        // The archive reads the body through a pipe, which would not pass a site's error on.
        const onBodyError = (error: Error) => broken.abort(error);
        body.once('error', onBodyError);
        archive.append(body, { name: file, date: options.at });
        try {
          await once(archive, 'entry', { signal: stop });
        } finally {
          body.off('error', onBodyError);
          body.destroy();
        }
        included.push({ site: entry.id, name: siteName, file });
      }
      archive.append(readme({ ...options, included, failed }), { name: BUNDLE_README, date: options.at });
      await once(archive, 'entry', { signal: stop });
      await archive.finalize();
      return { included, failed };
    } catch (error) {
      const reason = broken.signal.aborted ? broken.signal.reason : error;
      // Bytes are gone already: only an error tells the reader the bundle is incomplete.
      archive.destroy(reason instanceof Error ? reason : new Error(String(reason)));
      throw reason;
    }
  })();
  // The route reads the archive; the summary is for logs, and its failure already broke the archive.
  summary.catch(() => undefined);
  return { archive, summary };
}

function readme({ entries, username, at, included, failed }: BundleOptions & BundleSummary): string {
  const urls = new Map(entries.map((entry) => [entry.id, entry.url]));
  const label = (site: string, name: string) => `${name} (${urls.get(site) ?? site})`;
  const lines = [
    `Private files of ${username}, from every site, asked for on ${at.toISOString().replace('T', ' ').slice(0, 19)} UTC.`,
    '',
    `Included: ${included.length} site(s), each as the zip the site made.`,
    ...included.map(({ site, name, file }) => `  - ${file}: ${label(site, name)}`),
    '',
  ];
  if (failed.length === 0) {
    lines.push('Every site answered.');
  } else {
    lines.push(`Not included: ${failed.length} site(s).`);
    for (const { site, name, failure } of failed) {
      lines.push(`  - ${label(site, name)}`, `    ${failureInPlainWords(failure.code)}`);
      lines.push(`    (${failure.code}: ${failure.message})`);
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}
