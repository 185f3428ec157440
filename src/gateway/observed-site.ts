import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Result, SiteFailureCode } from '../moodle/failures.js';
import type { MoodleSite, RemoteDownload } from './site.js';

/** The web-service function a port operation calls; a download is named `download`. */
export const SITE_OPERATION_FUNCTIONS = {
  getSiteInfo: 'core_webservice_get_site_info',
  createPrivateFilesZip: 'block_my_external_privatefiles_get_private_files_zip',
  openDownload: 'download',
} as const;

export interface SiteLabels {
  readonly tenant: string;
  readonly site: string;
}

export interface SiteCallEvent extends SiteLabels {
  /** A web-service function name, or `download` (until the download's headers). */
  readonly fn: string;
  readonly seconds: number;
  /** The failure's code; absent when the call succeeded. */
  readonly failure?: SiteFailureCode;
}

/** `complete` when the whole body was read; `aborted` when the client left or the site stopped sending. */
export type SiteDownloadEnd = 'complete' | 'aborted';

/** Told about every call through the port. Implementations must not throw. */
export interface SiteCallObserver {
  called(event: SiteCallEvent): void;
  downloadStarted(labels: SiteLabels): void;
  downloadBytes(labels: SiteLabels, bytes: number): void;
  downloadEnded(labels: SiteLabels, end: SiteDownloadEnd): void;
}

export interface ObserveSiteOptions {
  readonly tenant: string;
  readonly observer: SiteCallObserver;
  /** @default performance.now */
  readonly now?: () => number;
}

/**
 * Decorates a `MoodleSite` so that every call reports its latency and outcome, and every download
 * its bytes while they flow. The body handed back keeps the original's backpressure: it is the
 * original piped through a counting transform, and destroying it destroys the original.
 */
export function observeSite(site: MoodleSite, options: ObserveSiteOptions): MoodleSite {
  const { tenant, observer, now = () => performance.now() } = options;
  const labels: SiteLabels = { tenant, site: site.id };

  async function timed<T>(fn: string, call: () => Promise<Result<T>>): Promise<Result<T>> {
    const started = now();
    const result = await call();
    const seconds = (now() - started) / 1000;
    observer.called(
      result.ok ? { ...labels, fn, seconds } : { ...labels, fn, seconds, failure: result.failure.code },
    );
    return result;
  }

  // A circuit breaker beneath stays readable (its `circuit()` snapshot) through this decorator.
  const circuit = (site as { circuit?: unknown }).circuit;
  return {
    ...(typeof circuit === 'function' && { circuit: circuit.bind(site) }),
    id: site.id,
    url: site.url,
    getSiteInfo: (callOptions) =>
      timed(SITE_OPERATION_FUNCTIONS.getSiteInfo, () => site.getSiteInfo(callOptions)),
    createPrivateFilesZip: (username, callOptions) =>
      timed(SITE_OPERATION_FUNCTIONS.createPrivateFilesZip, () =>
        site.createPrivateFilesZip(username, callOptions),
      ),
    async openDownload(relativepath, callOptions) {
      const opened = await timed(SITE_OPERATION_FUNCTIONS.openDownload, () =>
        site.openDownload(relativepath, callOptions),
      );
      return opened.ok ? { ok: true, value: countedDownload(opened.value, labels, observer) } : opened;
    },
  };
}

/**
 * Bytes are told in batches of about this many: telling every 64 KiB chunk was a measurable part of
 * what streaming a large download costs the gateway.
 */
const REPORT_EVERY_BYTES = 1024 * 1024;

function countedDownload(download: RemoteDownload, labels: SiteLabels, observer: SiteCallObserver) {
  let unreported = 0;
  const report = () => {
    if (unreported === 0) return;
    observer.downloadBytes(labels, unreported);
    unreported = 0;
  };
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      unreported += chunk.length;
      if (unreported >= REPORT_EVERY_BYTES) report();
      done(null, chunk);
    },
    flush(done) {
      report();
      done();
    },
  });
  observer.downloadStarted(labels);
  let ended = false;
  const end = (how: SiteDownloadEnd) => {
    if (ended) return;
    ended = true;
    report();
    observer.downloadEnded(labels, how);
  };
  counter.once('end', () => end('complete'));
  counter.once('close', () => end('aborted'));
  // The reader sees the original's errors on `counter`; this promise only needs handling.
  pipeline(download.body, counter).catch(() => undefined);
  return { ...download, body: counter } satisfies RemoteDownload;
}
