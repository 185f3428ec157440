import { EventEmitter } from 'node:events';
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
 * its bytes while they flow. The body handed back is the site's own, with its backpressure; its bytes
 * are counted as they are read (see `countedDownload`).
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

/**
 * The download as it came, its bytes counted as its reader takes them: a `data` listener sees every
 * chunk read, whether the reader pipes it (flowing) or calls `read()` (a `readable` listener). The
 * listener is added with EventEmitter's own `on`: Readable's would also resume the stream, which must
 * stay paused until its reader comes. No stream is put between the site's body and the reader: a
 * counting Transform, with its second pipe, cost as much CPU per chunk as the rest of the gateway's
 * JavaScript on the way.
 */
function countedDownload(download: RemoteDownload, labels: SiteLabels, observer: SiteCallObserver) {
  const { body } = download;
  let unreported = 0;
  const report = () => {
    if (unreported === 0) return;
    observer.downloadBytes(labels, unreported);
    unreported = 0;
  };
  const onData = (chunk: Buffer | string) => {
    unreported += chunk.length;
    if (unreported >= REPORT_EVERY_BYTES) report();
  };
  EventEmitter.prototype.on.call(body, 'data', onData);
  observer.downloadStarted(labels);
  let ended = false;
  const end = (how: SiteDownloadEnd) => {
    if (ended) return;
    ended = true;
    body.off('data', onData);
    report();
    observer.downloadEnded(labels, how);
  };
  body.once('end', () => end('complete'));
  body.once('close', () => end('aborted'));
  if (body.readableEnded) end('complete');
  else if (body.destroyed) end('aborted');
  return download;
}
