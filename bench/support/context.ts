import { type Child, lineOf, spawnTs } from './processes.js';

/** What `bench/run.ts` gives every benchmark. */
export interface BenchContext {
  /** A temp directory of this run, removed at its end. */
  readonly dir: string;
  /** BENCH_QUICK=1: small sizes and few runs, to develop the benchmarks, not to quote. */
  readonly quick: boolean;
  /** Progress, on stderr. */
  log(message: string): void;
  /** `node` flags for the processes measured (BENCH_PROFILE=1 adds `--cpu-prof`). */
  nodeFlags(name: string): readonly string[];
}

export interface Upstreams<T> {
  readonly child: Child;
  readonly sites: readonly T[];
  stop(): Promise<void>;
}

/** Starts `bench/upstreams.ts` in a child process and reads the sites it started. */
export async function startUpstreams<T>(args: readonly string[]): Promise<Upstreams<T>> {
  const child = spawnTs('bench/upstreams.ts', args);
  try {
    const ready = await lineOf(child, /^\{"sites"/, 'the upstream sites');
    const { sites } = JSON.parse(ready) as { sites: T[] };
    return { child, sites, stop: () => child.stop() };
  } catch (error) {
    await child.stop();
    throw error;
  }
}
