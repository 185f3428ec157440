import type { OutputStream } from './cli-io.js';
import { formatBytes, formatDuration } from './format-units.js';

export interface ProgressBarOptions {
  /** Drawn only when this is a terminal; elsewhere the bar stays silent. */
  readonly stream: OutputStream;
  /** Expected bytes; `null` when the site did not say (no percentage, no ETA). */
  readonly total: number | null;
  /** @default performance.now */
  readonly now?: () => number;
  /** Redraws at most this often. @default 100 */
  readonly intervalMs?: number;
  /** @default 24 */
  readonly width?: number;
}

export interface ProgressBar {
  /** Adds received bytes; redraws when due. */
  advance(bytes: number): void;
  /** Bytes received so far. */
  readonly bytes: number;
  /** Milliseconds since the bar started. */
  elapsedMs(): number;
  /** Removes the bar's line, leaving the cursor at its start. */
  clear(): void;
}

/** A one-line progress bar: bytes received, percentage, rate and ETA, redrawn in place. */
export function createProgressBar(options: ProgressBarOptions): ProgressBar {
  const { stream, total, now = () => performance.now(), intervalMs = 100, width = 24 } = options;
  const started = now();
  const enabled = stream.isTTY === true;
  let bytes = 0;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let lastLength = 0;
  // Rate smoothed over recent redraws, so the ETA follows changes in speed without jumping around.
  let rate = 0;
  let lastSample = { at: started, bytes: 0 };

  function draw(at: number) {
    const sampleMs = at - lastSample.at;
    if (sampleMs > 0) {
      const instant = ((bytes - lastSample.bytes) * 1000) / sampleMs;
      rate = rate === 0 ? instant : rate * 0.7 + instant * 0.3;
      lastSample = { at, bytes };
    }
    const parts: string[] = [];
    if (total !== null && total > 0) {
      const ratio = Math.min(1, bytes / total);
      const filled = Math.round(ratio * width);
      parts.push(
        `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`,
        `${Math.floor(ratio * 100)}%`.padStart(4),
      );
      parts.push(`${formatBytes(bytes)} / ${formatBytes(total)}`);
    } else {
      parts.push(formatBytes(bytes));
    }
    parts.push(`${formatBytes(Math.round(rate))}/s`);
    if (total !== null && rate > 0 && bytes < total)
      parts.push(`ETA ${formatDuration(((total - bytes) / rate) * 1000)}`);
    const line = parts.join('  ');
    stream.write(`\r${line}${' '.repeat(Math.max(0, lastLength - line.length))}`);
    lastLength = line.length;
    lastDraw = at;
  }

  return {
    advance(received) {
      bytes += received;
      if (!enabled) return;
      const at = now();
      if (at - lastDraw >= intervalMs) draw(at);
    },
    get bytes() {
      return bytes;
    },
    elapsedMs: () => now() - started,
    clear() {
      if (enabled && lastLength > 0) stream.write(`\r${' '.repeat(lastLength)}\r`);
      lastLength = 0;
    },
  };
}
