/*
 * Zip build and download, on one data set made at run time (2,000 files, 1 GiB, half text, half random):
 *   zip build: the provider zipping the user's private area (REST call, in its own process, RSS
 *     sampled) in stored mode vs Info-ZIP `zip -r -0`, and in deflate mode vs `zip -r -1`, same files;
 *   download: the stored zip (1 GiB) through the gateway's `/download` (gateway in its own process,
 *     RSS sampled) vs fetched directly from the provider.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import type { BenchContext } from './support/context.js';
import { startGatewayProcess } from './support/gateway-process.js';
import { cpuSeconds, lineOf, rssBytes, sampleRss, spawnTs } from './support/processes.js';
import { atLeast, atMost, type BenchLine, line, MiB, median, since, skipped } from './support/results.js';
import { planDataSet, writeDataSet } from './support/zip-data.js';

const ZIP_FUNCTION = 'block_my_external_privatefiles_get_private_files_zip';
const DOWNLOAD_SCRIPT = '/blocks/my_external_privatefiles/get_user_draft_file_webservice.php';

interface ServedProvider {
  readonly url: string;
  readonly token: string;
  readonly username: string;
  readonly pid: number;
  stop(): Promise<void>;
}

interface ZipDescriptor {
  readonly relativepath: string;
}

/** The demo account's token, the same for every provider process on the data set. */
const TOKEN = randomBytes(16).toString('hex');

async function serveProvider(ctx: BenchContext, dataDir: string, mode: 'store' | 'deflate') {
  const child = spawnTs('bench/zip-provider.ts', ['serve', dataDir, mode, TOKEN], {
    nodeFlags: ctx.nodeFlags(`zip-provider-${mode}`),
  });
  const ready = JSON.parse(await lineOf(child, /^\{"url"/, `the ${mode} provider`)) as Omit<
    ServedProvider,
    'pid' | 'stop'
  >;
  return { ...ready, pid: child.pid, stop: () => child.stop() } satisfies ServedProvider;
}

/** One zip build by the provider, as the gateway asks for it; its time in s and the zip's descriptor. */
async function buildZip(dispatcher: Agent, provider: ServedProvider) {
  const started = performance.now();
  const answer = await request(`${provider.url}/webservice/rest/server.php`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      wstoken: provider.token,
      wsfunction: ZIP_FUNCTION,
      moodlewsrestformat: 'json',
      username: provider.username,
    }).toString(),
    headersTimeout: 600_000,
    bodyTimeout: 600_000,
  });
  const zip = (await answer.body.json()) as ZipDescriptor & { exception?: string; message?: string };
  const seconds = since(started) / 1000;
  if (zip.relativepath === undefined) throw new Error(`the provider did not build the zip: ${zip.message}`);
  return { seconds, zip };
}

/** Info-ZIP over the same files, from their folder (`zip -r -q -<level> out.zip .`); its time in s. */
async function infoZip(filesDir: string, output: string, level: 0 | 1): Promise<number> {
  await rm(output, { force: true });
  const started = performance.now();
  const child = spawn('zip', ['-r', '-q', `-${level}`, output, '.'], { cwd: filesDir, stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const seconds = since(started) / 1000;
  if (code !== 0) throw new Error(`zip -${level} exited with ${code}`);
  return seconds;
}

/** Writes dirty pages out (not timed), so that one run's writeback does not slow the next. */
function flushDisks(): void {
  spawnSync('sync');
}

/**
 * Streams a URL to nowhere; its throughput in MiB/s and its byte count. The client is curl when there is
 * one: the two paths compared share this machine's two cores with their client, and curl takes the
 * least of them, so that the figures are the servers' rather than the measuring client's. Else undici.
 */
async function fetchAll(dispatcher: Agent, url: string): Promise<{ mibPerSecond: number; bytes: number }> {
  const started = performance.now();
  const bytes = hasCurl ? await curlToNowhere(url) : await undiciToNowhere(dispatcher, url);
  return { mibPerSecond: bytes / MiB / (since(started) / 1000), bytes };
}

const hasCurl = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0;

async function curlToNowhere(url: string): Promise<number> {
  const child = spawn(
    'curl',
    [
      '--silent',
      '--show-error',
      '--fail',
      '--output',
      '/dev/null',
      '--write-out',
      '%{size_download} %{http_code}',
      url,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const [size = '0', status = ''] = out.trim().split(' ');
  if (code !== 0 || status !== '200')
    throw new Error(`download: curl ${code}, HTTP ${status}: ${err.trim()}`);
  return Number(size);
}

async function undiciToNowhere(dispatcher: Agent, url: string): Promise<number> {
  const answer = await request(url, { dispatcher, bodyTimeout: 120_000, headersTimeout: 120_000 });
  if (answer.statusCode !== 200) {
    throw new Error(`download ${answer.statusCode}: ${(await answer.body.text()).slice(0, 300)}`);
  }
  let bytes = 0;
  for await (const chunk of answer.body) bytes += (chunk as Buffer).length;
  const declared = Number(answer.headers['content-length']);
  if (Number.isFinite(declared) && declared !== bytes)
    throw new Error(`download short: ${bytes}/${declared}`);
  return bytes;
}

function zipAvailable(): boolean {
  return spawnSync('zip', ['-v'], { stdio: 'ignore' }).status === 0;
}

export async function runDownloadAndZip(ctx: BenchContext): Promise<BenchLine[]> {
  const count = ctx.quick ? 200 : 2_000;
  const totalMiB = ctx.quick ? 64 : Number(process.env.BENCH_ZIP_MIB ?? 1024);
  const runs = ctx.quick ? 2 : 3;
  const root = join(ctx.dir, 'zip');
  const filesDir = join(root, 'files');
  const dataDir = join(root, 'provider');
  const output = join(root, 'info-zip.zip');
  await mkdir(filesDir, { recursive: true });
  const lines: BenchLine[] = [];
  const dispatcher = new Agent({ connections: 4 });
  try {
    ctx.log(`zip: writing ${count} files, ${totalMiB} MiB (half text, half random) …`);
    await writeDataSet(filesDir, planDataSet(count, totalMiB * MiB));
    ctx.log('zip: storing them as the private files of a provider user …');
    const seeding = spawnTs('bench/zip-provider.ts', ['seed', dataDir, filesDir]);
    await lineOf(seeding, /^\{"seeded"/, 'the seeding provider', 600_000);
    await seeding.stop();
    flushDisks();

    const hasZip = zipAvailable();
    if (!hasZip) {
      ctx.log('zip: Info-ZIP is not installed (`apt-get install -y zip`): the zip build lines are skipped');
    }
    for (const mode of ['store', 'deflate'] as const) {
      const level = mode === 'store' ? 0 : 1;
      const provider = await serveProvider(ctx, dataDir, mode);
      try {
        const idleRss = await rssBytes(provider.pid);
        const builds: number[] = [];
        const baselines: number[] = [];
        let peakRss = 0;
        const peaks: number[] = [];
        let zipBytes = 0;
        for (let run = 0; run < runs; run++) {
          if (hasZip) {
            baselines.push(await infoZip(filesDir, output, level));
            if (run === 0) zipBytes = (await stat(output)).size;
            await rm(output, { force: true });
            flushDisks();
          }
          const sampler = sampleRss(provider.pid);
          const { seconds } = await buildZip(dispatcher, provider);
          const { peak } = await sampler.stop();
          peakRss = Math.max(peakRss, peak);
          peaks.push(peak);
          builds.push(seconds);
          flushDisks();
          ctx.log(
            `zip ${mode} run ${run + 1}/${runs}: provider ${seconds.toFixed(2)} s${hasZip ? `, zip -${level} ${baselines.at(-1)?.toFixed(2)} s` : ''}, provider RSS peak ${(peak / MiB).toFixed(0)} MiB`,
          );
        }
        const extra = {
          // The highest of the runs (the target is a ceiling), then the runs' median.
          'provider RSS peak MiB': Math.round(peakRss / MiB),
          'median run peak MiB': Math.round(median(peaks) / MiB),
          'RSS ≤ 150 MiB': peakRss <= 150 * MiB ? 'met' : 'MISSED',
          'idle RSS MiB': Math.round(idleRss / MiB),
          files: count,
          'data MiB': totalMiB,
          ...(zipBytes > 0 && { [`zip -${level} MiB`]: Math.round(zipBytes / MiB) }),
        };
        if (hasZip) {
          lines.push(
            line({
              bench: 'zip build',
              case: mode === 'store' ? 'stored' : 'deflate',
              unit: 's',
              baselineName: `zip -r -${level}`,
              values: builds,
              baselines,
              ...(!ctx.quick && { target: atMost(mode === 'store' ? 1.5 : 1.25) }),
              extra,
            }),
          );
        } else {
          lines.push({
            ...skipped(
              'zip build',
              mode === 'store' ? 'stored' : 'deflate',
              'zip not installed: no baseline',
            ),
            value: median(builds),
            samples: { value: builds, baseline: [] },
            runs: builds.length,
            extra,
          });
        }
      } finally {
        await provider.stop();
      }
    }

    // A fresh provider: the download's gateway asks it for a (stored) zip, as a user would.
    const provider = await serveProvider(ctx, dataDir, 'store');
    try {
      lines.push(await measureDownload(ctx, dispatcher, provider, runs));
    } finally {
      await provider.stop();
    }
  } finally {
    await dispatcher.close();
    await rm(root, { recursive: true, force: true });
  }
  return lines;
}

async function measureDownload(
  ctx: BenchContext,
  dispatcher: Agent,
  provider: ServedProvider,
  runs: number,
): Promise<BenchLine> {
  ctx.log('download: starting the gateway …');
  const gateway = await startGatewayProcess({
    dir: ctx.dir,
    nodeFlags: ctx.nodeFlags('download-gateway'),
    config: {
      sites: [{ id: 'zip', url: provider.url, token: provider.token, timeouts: { zipMs: 600_000 } }],
    },
  });
  try {
    const answer = await request(`${gateway.url}/graphql`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gateway.apiKey}` },
      body: JSON.stringify({
        query: `query($user: String!) { privateFilesZip(site: "zip", username: $user) {
          __typename ... on PrivateFilesZip { downloadUrl remote { relativepath } } ... on SiteFailure { code message } } }`,
        variables: { user: provider.username },
      }),
      headersTimeout: 600_000,
      bodyTimeout: 600_000,
    });
    const body = (await answer.body.json()) as {
      data?: { privateFilesZip?: { downloadUrl?: string; remote?: ZipDescriptor; message?: string } };
    };
    const zip = body.data?.privateFilesZip;
    if (zip?.downloadUrl === undefined || zip.remote === undefined) {
      throw new Error(`download: no zip from the gateway: ${JSON.stringify(body)}`);
    }
    const direct = `${provider.url}${DOWNLOAD_SCRIPT}${zip.remote.relativepath}?token=${encodeURIComponent(provider.token)}`;
    // The gateway's RSS before its first download, then its peak over all of them, warm-up included.
    const rssBefore = await rssBytes(gateway.child.pid);
    const sampler = sampleRss(gateway.child.pid);
    const through: number[] = [];
    const directly: number[] = [];
    let bytes = 0;
    let peak = 0;
    // CPU seconds per GiB of each server, on each path: what the two cores are shared between.
    const providerCpuDirect: number[] = [];
    const providerCpuThrough: number[] = [];
    const gatewayCpu: number[] = [];
    try {
      // Warm both paths (page cache, the gateway's connection to the provider, its code).
      await fetchAll(dispatcher, direct);
      await fetchAll(dispatcher, zip.downloadUrl);
      for (let run = 0; run < runs; run++) {
        const p0 = await cpuSeconds(provider.pid);
        const d = await fetchAll(dispatcher, direct);
        const p1 = await cpuSeconds(provider.pid);
        const g0 = await cpuSeconds(gateway.child.pid);
        const g = await fetchAll(dispatcher, zip.downloadUrl);
        const [g1, p2] = [await cpuSeconds(gateway.child.pid), await cpuSeconds(provider.pid)];
        const gib = g.bytes / 1024 ** 3;
        providerCpuDirect.push((p1 - p0) / gib);
        providerCpuThrough.push((p2 - p1) / gib);
        gatewayCpu.push((g1 - g0) / gib);
        bytes = g.bytes;
        directly.push(d.mibPerSecond);
        through.push(g.mibPerSecond);
        ctx.log(
          `download run ${run + 1}/${runs}: direct ${d.mibPerSecond.toFixed(0)} MiB/s, through the gateway ${g.mibPerSecond.toFixed(0)} MiB/s`,
        );
      }
    } finally {
      peak = (await sampler.stop()).peak;
    }
    const growth = peak - rssBefore;
    return line({
      bench: 'download',
      case: `${(bytes / MiB).toFixed(0)} MiB zip`,
      unit: 'MiB/s',
      baselineName: 'direct from the provider',
      values: through,
      baselines: directly,
      ...(!ctx.quick && { target: atLeast(0.9) }),
      extra: {
        client: hasCurl ? 'curl' : 'undici',
        'gateway RSS growth MiB': Math.round(growth / MiB),
        'RSS ≤ +64 MiB': growth <= 64 * MiB ? 'met' : 'MISSED',
        'gateway RSS before MiB': Math.round(rssBefore / MiB),
        'CPU s/GiB: provider direct': Number(median(providerCpuDirect).toFixed(2)),
        'provider via gateway': Number(median(providerCpuThrough).toFixed(2)),
        gateway: Number(median(gatewayCpu).toFixed(2)),
      },
    });
  } finally {
    await gateway.stop();
  }
}
