import { describe, expect, it } from 'vitest';
import { createProgressBar } from '../src/cli/progress-bar.js';

function terminal(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (text: string) => writes.push(text) } };
}

describe('the download progress bar', () => {
  it('draws bytes, percentage, rate and ETA in place on a terminal', () => {
    let now = 0;
    const { writes, stream } = terminal(true);
    const bar = createProgressBar({ stream, total: 4 * 1024 * 1024, now: () => now });
    now = 1000;
    bar.advance(1024 * 1024);
    const line = writes.at(-1) ?? '';
    expect(line.startsWith('\r[')).toBe(true);
    expect(line).toContain(' 25%');
    expect(line).toContain('1.0 MiB / 4.0 MiB');
    expect(line).toContain('1.0 MiB/s');
    expect(line).toContain('ETA 3.0s');
  });

  it('redraws at most every interval, and clears its line at the end', () => {
    let now = 0;
    const { writes, stream } = terminal(true);
    const bar = createProgressBar({ stream, total: 1000, now: () => now, intervalMs: 100 });
    for (let i = 0; i < 10; i++) {
      now += 10;
      bar.advance(10);
    }
    expect(writes).toHaveLength(1);
    expect(bar.bytes).toBe(100);
    bar.clear();
    expect(writes.at(-1)).toMatch(/^\r +\r$/);
  });

  it('shows bytes and rate without a percentage when the size is unknown', () => {
    let now = 0;
    const { writes, stream } = terminal(true);
    const bar = createProgressBar({ stream, total: null, now: () => now });
    now = 2000;
    bar.advance(4096);
    expect(writes.at(-1)).toBe('\r4.0 KiB  2.0 KiB/s');
  });

  it('stays silent when the output is not a terminal', () => {
    const { writes, stream } = terminal(false);
    const bar = createProgressBar({ stream, total: 100 });
    bar.advance(50);
    bar.clear();
    expect(writes).toEqual([]);
    expect(bar.bytes).toBe(50);
  });
});
