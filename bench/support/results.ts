/*
 * What every benchmark hands back: lines of the one table `npm run bench` prints, each figure beside
 * its same-run baseline as a ratio, and whether the line meets its target.
 */

export interface BenchLine {
  /** The benchmark's name: `fan-out`, `throughput`, … */
  readonly bench: string;
  /** What this line measures, e.g. `N=50`, `stored`. */
  readonly case: string;
  /** The product's figure (a median over `runs`), in `unit`. */
  readonly value: number;
  /** The baseline's figure measured in the same run, in `unit`. */
  readonly baseline: number;
  readonly baselineName: string;
  readonly unit: 'ms' | 's' | 'req/s' | 'MiB/s';
  /** `value / baseline`; for rates (req/s, MiB/s) it is still value / baseline, higher being better. */
  readonly ratio: number;
  /** The target, as written in the issue, and whether `ratio` meets it; absent for lines without one. */
  readonly target?: { readonly text: string; readonly met: boolean };
  readonly runs: number;
  /** Every run's figure and baseline, for whoever reads results.json. */
  readonly samples: { readonly value: readonly number[]; readonly baseline: readonly number[] };
  /** Further figures worth showing on the line (p99, RSS, sizes). */
  readonly extra?: Readonly<Record<string, number | string>>;
  /** Why a line was skipped or is to be read with care. */
  readonly note?: string;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export const MiB = 1024 * 1024;

/** Milliseconds since `started` (a `performance.now()`). */
export const since = (started: number) => performance.now() - started;

/** `at most` targets: value / baseline ≤ limit. */
export function atMost(limit: number): (ratio: number) => { text: string; met: boolean } {
  return (ratio) => ({ text: `≤ ${limit}×`, met: ratio <= limit });
}

/** `at least` targets: value / baseline ≥ limit. */
export function atLeast(limit: number): (ratio: number) => { text: string; met: boolean } {
  return (ratio) => ({ text: `≥ ${limit}×`, met: ratio >= limit });
}

export interface LineInput {
  readonly bench: string;
  readonly case: string;
  readonly unit: BenchLine['unit'];
  readonly baselineName: string;
  readonly values: readonly number[];
  readonly baselines: readonly number[];
  readonly target?: (ratio: number) => { text: string; met: boolean };
  readonly extra?: Readonly<Record<string, number | string>>;
  readonly note?: string;
}

/** Medians of the runs, their ratio, and the target's verdict. */
export function line(input: LineInput): BenchLine {
  const value = median(input.values);
  const baseline = median(input.baselines);
  const ratio = value / baseline;
  return {
    bench: input.bench,
    case: input.case,
    value,
    baseline,
    baselineName: input.baselineName,
    unit: input.unit,
    ratio,
    ...(input.target && { target: input.target(ratio) }),
    runs: input.values.length,
    samples: { value: input.values, baseline: input.baselines },
    ...(input.extra && { extra: input.extra }),
    ...(input.note !== undefined && { note: input.note }),
  };
}

/** A line that could not be measured (a missing tool), kept in the table with the reason. */
export function skipped(bench: string, kase: string, note: string): BenchLine {
  return {
    bench,
    case: kase,
    value: Number.NaN,
    baseline: Number.NaN,
    baselineName: '-',
    unit: 's',
    ratio: Number.NaN,
    runs: 0,
    samples: { value: [], baseline: [] },
    note,
  };
}

function figure(value: number, unit: BenchLine['unit']): string {
  if (!Number.isFinite(value)) return '-';
  const digits = unit === 'ms' ? 1 : unit === 's' ? 2 : 0;
  return `${value.toFixed(digits)} ${unit}`;
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ');
}

/** The one table `npm run bench` prints. */
export function formatTable(lines: readonly BenchLine[]): string {
  const header = ['benchmark', 'case', 'gateway / provider', 'baseline', 'ratio', 'target', 'also'];
  const rows = lines.map((l) => [
    l.bench,
    l.case,
    figure(l.value, l.unit),
    l.baselineName === '-' ? '-' : `${figure(l.baseline, l.unit)} (${l.baselineName})`,
    Number.isFinite(l.ratio) ? `${l.ratio.toFixed(2)}×` : '-',
    l.target
      ? `${l.target.text} ${l.target.met ? 'met' : 'MISSED'}`
      : Number.isNaN(l.ratio)
        ? 'skipped'
        : '(info)',
    [
      ...Object.entries(l.extra ?? {}).map(([key, value]) => `${key} ${value}`),
      ...(l.note === undefined ? [] : [l.note]),
    ].join(', '),
  ]);
  const widths = header.map((_, column) =>
    Math.max(
      ...[header, ...rows].map((row) => (column === header.length - 1 ? 0 : (row[column] ?? '').length)),
    ),
  );
  return [
    pad(header, widths),
    pad(
      widths.map((w) => '-'.repeat(Math.max(w, 4))),
      widths,
    ),
    ...rows.map((r) => pad(r, widths)),
  ]
    .map((row) => row.trimEnd())
    .join('\n');
}
