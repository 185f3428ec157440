/*
 * `npm run bench`: every benchmark, on 127.0.0.1 only, one after another, bounded in time. Prints one
 * table (each figure a median over several runs, beside its baseline measured in the same run, as a
 * ratio) and writes bench/results.json. How to read each line: BENCHMARKS.md.
 *
 * Knobs (environment):
 *   BENCH_ONLY=fan-out,zip      run only these benchmarks (fan-out, throughput, download, zip, provisioning)
 *   BENCH_QUICK=1               small sizes, few runs: to develop the benchmarks, never to quote
 *   BENCH_PROFILE=1             the gateway and provider processes write V8 CPU profiles to bench/profiles/
 *   BENCH_ZIP_MIB=1024          the zip and download data set's size
 *   BENCH_TSX=1                 run the children through tsx instead of compiling them first (faster
 *                               to start while developing; adds about 30 MiB to every child's RSS)
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, freemem, loadavg, release, tmpdir, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { runDownloadAndZip } from './download-and-zip.js';
import { runFanOut } from './fan-out.js';
import { runProvisioning } from './provisioning.js';
import { compileForBench } from './support/build.js';
import type { BenchContext } from './support/context.js';
import { killAllChildren, ROOT, useCompiled } from './support/processes.js';
import { type BenchLine, formatTable, skipped } from './support/results.js';
import { runThroughput } from './throughput.js';

/** However the machine behaves, the whole run stops after this long. */
const HARD_LIMIT_MS = 20 * 60_000;

const BENCHES: Record<string, (ctx: BenchContext) => Promise<BenchLine[]>> = {
  'fan-out': runFanOut,
  throughput: runThroughput,
  // One data set of 2,000 files serves both: the provider zips it, then the gateway streams the zip.
  zip: runDownloadAndZip,
  provisioning: runProvisioning,
};

function machine() {
  const cores = cpus();
  return {
    cpu: `${cores[0]?.model ?? 'unknown'} × ${cores.length}`,
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB (${(freemem() / 1024 ** 3).toFixed(1)} GiB free at start)`,
    os: `${type()} ${release()}`,
    node: process.version,
  };
}

const loadAverage = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

async function main(): Promise<number> {
  const only = (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
    // `download` is measured with the zip benchmark's data set.
    .map((name) => (name === 'download' ? 'zip' : name));
  const unknown = only.filter((name) => !(name in BENCHES));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s) ${unknown.join(', ')}: ${Object.keys(BENCHES).join(', ')}, download`);
    return 2;
  }
  const quick = process.env.BENCH_QUICK === '1';
  const profile = process.env.BENCH_PROFILE === '1';
  const profileDir = join(ROOT, 'bench', 'profiles');
  if (profile) await mkdir(profileDir, { recursive: true });
  const dir = await mkdtemp(join(tmpdir(), 'moodle-gateway-bench-'));
  const started = performance.now();
  const ctx: BenchContext = {
    dir,
    quick,
    log: (message) =>
      console.error(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`),
    nodeFlags: (name) => (profile ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : []),
  };
  const hardLimit = setTimeout(() => {
    console.error(`bench: over its ${HARD_LIMIT_MS / 60_000} min limit, stopping`);
    killAllChildren();
    rm(dir, { recursive: true, force: true }).finally(() => process.exit(2));
  }, HARD_LIMIT_MS);
  hardLimit.unref();
  if (process.env.BENCH_TSX !== '1') {
    ctx.log('compiling the product and the benchmark children (they run as shipped: node, not tsx) …');
    useCompiled(await compileForBench(join(dir, 'build')));
  }

  const context = { machine: machine(), loadAverageAtStart: loadAverage(), quick };
  ctx.log(`machine: ${context.machine.cpu}, ${context.machine.memory}, load ${context.loadAverageAtStart}`);
  const lines: BenchLine[] = [];
  try {
    for (const [name, run] of Object.entries(BENCHES)) {
      if (only.length > 0 && !only.includes(name)) continue;
      try {
        lines.push(...(await run(ctx)));
      } catch (error) {
        console.error(error);
        lines.push(skipped(name, 'all', `failed: ${(error as Error).message.split('\n')[0]}`));
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const seconds = (performance.now() - started) / 1000;
  const results = {
    ...context,
    loadAverageAtEnd: loadAverage(),
    durationSeconds: Math.round(seconds),
    date: new Date().toISOString(),
    lines,
  };
  await writeFile(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const targets = lines.filter((l) => l.target);
  const met = targets.filter((l) => l.target?.met).length;
  process.stdout.write(
    [
      '',
      `moodle-gateway benchmarks — ${context.machine.cpu}, ${context.machine.memory}, ${context.machine.node}`,
      `load average ${context.loadAverageAtStart} at start, ${results.loadAverageAtEnd} at the end; ${seconds.toFixed(0)} s${quick ? '; QUICK (small sizes, not to quote)' : ''}`,
      '',
      formatTable(lines),
      '',
      `targets met: ${met} of ${targets.length}   (bench/results.json; how to read each line: BENCHMARKS.md)`,
      '',
    ].join('\n'),
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
