/*
 * `npm run load`: the gateway under load, on loopback only, bounded in time and in count.
 *
 * 10 sites (7 healthy providers, 3 misbehaving: never answers, HTML 500, 50 MB of JSON) run in one
 * child process, the gateway (`moodle-gateway serve`, as in production) in another, so that the RSS
 * measured is the gateway's own. After a warm-up, 200 connections ask `externalSites` and
 * `privateFilesZip` for 30 s while download workers stream zips through the gateway. It prints
 * requests/s, p50/p99 latency, outcomes and errors by kind, and the gateway's RSS after the warm-up
 * and after the run; it exits 1 when a healthy site got a 5xx or a failure, or RSS grew over 20%.
 *
 * Knobs (environment): LOAD_CONNECTIONS (200), LOAD_DURATION_S (30), LOAD_WARMUP_S (20),
 * LOAD_DOWNLOAD_WORKERS (8).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import type { UpstreamSite } from './load-upstreams.js';

const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 200);
const DURATION_S = Number(process.env.LOAD_DURATION_S ?? 30);
const WARMUP_S = Number(process.env.LOAD_WARMUP_S ?? 20);
const DOWNLOAD_WORKERS = Number(process.env.LOAD_DOWNLOAD_WORKERS ?? 8);
/** The run's count bound, whatever the rate: autocannon stops at this many requests or the duration. */
const MAX_REQUESTS = 3_000_000;
const MAX_DOWNLOADS = 100_000;
/** The whole test, children included, never runs longer than this. */
const HARD_LIMIT_MS = (WARMUP_S + DURATION_S + 120) * 1000;
const SETTLE_MS = 3_000;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const API_KEY = randomBytes(24).toString('hex');

const SITES_QUERY =
  '{ externalSites { id status info { __typename ... on SiteInfo { sitename } ... on SiteFailure { code } } } }';
const ZIP_QUERY = `query($site: ID!) { privateFilesZip(site: $site, username: "alice") {
  __typename ... on PrivateFilesZip { downloadUrl } ... on SiteFailure { code }
} }`;

type Counts = Map<string, number>;
const bump = (counts: Counts, key: string, by = 1) => counts.set(key, (counts.get(key) ?? 0) + by);

interface Tally {
  /** HTTP status of every GraphQL answer, by class. */
  readonly statuses: Counts;
  /** Per-site outcomes of healthy sites: `ok`, or the SiteFailure code. */
  readonly healthy: Counts;
  /** Per-site outcomes of the misbehaving sites. */
  readonly faulty: Counts;
  /** GraphQL errors, by extensions.code. */
  readonly graphqlErrors: Counts;
}

const newTally = (): Tally => ({
  statuses: new Map(),
  healthy: new Map(),
  faulty: new Map(),
  graphqlErrors: new Map(),
});

function spawnTs(file: string, args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with the first stdout line matching `pattern`; rejects if the child exits first. */
function lineOf(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (pattern.test(line)) resolve(line);
    });
    child.once('exit', (code) =>
      reject(new Error(`${what} exited (${code}) before it was ready:\n${stderr}`)),
    );
  });
}

/** Resident set size of a process, from /proc (Linux) or ps. */
async function rssBytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    if (kb !== undefined) return Number(kb) * 1024;
  } catch {
    // Not Linux: ask ps.
  }
  const ps = spawn('ps', ['-o', 'rss=', '-p', String(pid)]);
  let out = '';
  ps.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  await new Promise((resolve) => ps.once('close', resolve));
  return Number(out.trim()) * 1024;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function classify(
  tally: Tally,
  healthyIds: ReadonlySet<string>,
  status: number,
  body: string,
  site?: string,
) {
  bump(tally.statuses, `${Math.floor(status / 100)}xx`);
  let parsed: {
    data?: {
      externalSites?: { id: string; info: { __typename: string; code?: string } }[];
      privateFilesZip?: { __typename: string; code?: string };
    };
    errors?: { extensions?: { code?: string } }[];
  };
  try {
    parsed = JSON.parse(body);
  } catch {
    bump(tally.graphqlErrors, 'UNPARSABLE_BODY');
    return;
  }
  for (const error of parsed.errors ?? []) bump(tally.graphqlErrors, error.extensions?.code ?? 'UNKNOWN');
  const outcome = (id: string, typename: string, code: string | undefined) =>
    bump(
      healthyIds.has(id) ? tally.healthy : tally.faulty,
      code ?? (typename === 'SiteFailure' ? '?' : 'ok'),
    );
  for (const row of parsed.data?.externalSites ?? []) outcome(row.id, row.info.__typename, row.info.code);
  const zip = parsed.data?.privateFilesZip;
  if (zip && site !== undefined) outcome(site, zip.__typename, zip.code);
}

/** One autocannon run of the request mix: 2 × externalSites, then privateFilesZip for the next site. */
async function hammer(
  url: string,
  sites: readonly UpstreamSite[],
  options: { connections: number; durationS: number; tally: Tally },
): Promise<autocannon.Result> {
  const healthyIds = new Set(sites.filter((site) => site.healthy).map((site) => site.id));
  let next = 0;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };
  const sitesRequest: autocannon.Request = {
    method: 'POST',
    path: '/graphql',
    headers,
    body: JSON.stringify({ query: SITES_QUERY }),
    onResponse: (status, body) => classify(options.tally, healthyIds, status, body),
  };
  const zipRequest: autocannon.Request = {
    method: 'POST',
    path: '/graphql',
    headers,
    setupRequest: (req, context: { site?: string }) => {
      const site = sites[next++ % sites.length]?.id ?? '';
      context.site = site;
      return { ...req, body: JSON.stringify({ query: ZIP_QUERY, variables: { site } }) };
    },
    onResponse: (status, body, context: { site?: string }) =>
      classify(options.tally, healthyIds, status, body, context.site),
  };
  return autocannon({
    url,
    connections: options.connections,
    duration: options.durationS,
    maxOverallRequests: MAX_REQUESTS,
    timeout: 20,
    requests: [sitesRequest, sitesRequest, zipRequest],
  });
}

interface DownloadStats {
  complete: number;
  bytes: number;
  readonly failures: Counts;
}

/** Workers that ask for a zip of a healthy site and stream it through the gateway, until told to stop. */
function startDownloads(url: string, sites: readonly UpstreamSite[], signal: AbortSignal) {
  const healthy = sites.filter((site) => site.healthy);
  const stats: DownloadStats = { complete: 0, bytes: 0, failures: new Map() };
  const dispatcher = new Agent({ connections: DOWNLOAD_WORKERS * 2 });
  let started = 0;
  const worker = async (index: number) => {
    while (!signal.aborted && started < MAX_DOWNLOADS) {
      started += 1;
      const site = healthy[(index + started) % healthy.length]?.id ?? '';
      try {
        const answer = await request(`${url}/graphql`, {
          method: 'POST',
          dispatcher,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
          body: JSON.stringify({ query: ZIP_QUERY, variables: { site } }),
        });
        const body = (await answer.body.json()) as {
          data?: { privateFilesZip?: { downloadUrl?: string; code?: string } };
        };
        const link = body.data?.privateFilesZip?.downloadUrl;
        if (link === undefined) {
          bump(stats.failures, `zip: ${body.data?.privateFilesZip?.code ?? `HTTP ${answer.statusCode}`}`);
          continue;
        }
        const download = await request(link, { dispatcher });
        let bytes = 0;
        for await (const chunk of download.body) bytes += (chunk as Buffer).length;
        const declared = Number(download.headers['content-length']);
        if (download.statusCode !== 200) bump(stats.failures, `download: HTTP ${download.statusCode}`);
        else if (Number.isFinite(declared) && declared !== bytes) bump(stats.failures, 'download: short');
        else {
          stats.complete += 1;
          stats.bytes += bytes;
        }
      } catch (error) {
        bump(stats.failures, `download: ${(error as { code?: string }).code ?? (error as Error).name}`);
      }
    }
  };
  const done = Promise.all(Array.from({ length: DOWNLOAD_WORKERS }, (_, index) => worker(index))).finally(
    () => dispatcher.close(),
  );
  return { stats, done };
}

function table(title: string, counts: Counts): string {
  const rows = [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([key, count]) => `    ${key.padEnd(28)} ${count}`);
  return `  ${title}\n${rows.length > 0 ? rows.join('\n') : '    (none)'}`;
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'gateway-load-config-'));
  const children: ChildProcess[] = [];
  const hardLimit = setTimeout(() => {
    console.error(`load test: over its ${HARD_LIMIT_MS / 1000} s limit, stopping everything`);
    for (const child of children) child.kill('SIGKILL');
    process.exit(2);
  }, HARD_LIMIT_MS);
  try {
    console.error('load test: starting 10 sites (7 providers, 3 misbehaving) …');
    const upstreams = spawnTs('bench/load-upstreams.ts', []);
    children.push(upstreams);
    const { sites } = JSON.parse(await lineOf(upstreams, /^\{"sites"/, 'the sites')) as {
      sites: UpstreamSite[];
    };

    const configFile = join(dir, 'gateway.json');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await writeFile(
      configFile,
      JSON.stringify({
        server: { host: '127.0.0.1', port, shutdownGraceMs: 10_000 },
        sites: sites.map(({ id, url, token, healthy }) => ({
          id,
          url,
          token,
          timeouts: healthy ? { siteInfoMs: 10_000, zipMs: 30_000 } : { siteInfoMs: 2_000, zipMs: 2_000 },
        })),
        auth: {
          apiKeys: [
            { id: 'load', sha256: createHash('sha256').update(API_KEY).digest('hex'), role: 'admin' },
          ],
        },
        // One caller from one address: the per-caller limits would measure themselves, not the gateway.
        rateLimit: { max: 0, downloadsPerUser: 1_000 },
        downloadLinks: { secret: randomBytes(32).toString('hex') },
        logLevel: process.env.LOAD_LOG_LEVEL ?? 'warn',
      }),
    );
    console.error('load test: starting the gateway …');
    const gateway = spawnTs('src/main.ts', ['serve', '--config', configFile], {
      LOG_FORMAT: 'json',
      NODE_ENV: 'production',
    });
    children.push(gateway);
    const circuitEvents: Counts = new Map();
    createInterface({ input: gateway.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (process.env.LOAD_LOG_FILE) appendFileSync(process.env.LOAD_LOG_FILE, `${line}\n`);
      // At warn, the gateway logs little besides its circuits opening (and why).
      const entry = safeJson(line) as { msg?: string; site?: string; lastFailure?: string } | undefined;
      if (entry?.msg?.startsWith('circuit open')) {
        bump(circuitEvents, `${entry.site} after ${entry.lastFailure}`);
      }
    });
    const gatewayExit = new Promise<number | null>((resolve) =>
      gateway.once('exit', (code) => resolve(code)),
    );
    await waitForGateway(gateway, url);

    // The warm-up is the run itself, shorter: the heap grows to the size this load needs, so what the
    // run adds on top of it is what it leaks.
    console.error(`load test: warm-up, ${WARMUP_S} s of the same load …`);
    const warmDownloads = new AbortController();
    const warming = startDownloads(url, sites, warmDownloads.signal);
    await hammer(url, sites, { connections: CONNECTIONS, durationS: WARMUP_S, tally: newTally() });
    warmDownloads.abort();
    await warming.done;
    await sleep(SETTLE_MS);
    const rssWarm = await rssBytes(gateway.pid ?? 0);

    console.error(
      `load test: ${CONNECTIONS} connections for ${DURATION_S} s, ${DOWNLOAD_WORKERS} download workers …`,
    );
    const stopDownloads = new AbortController();
    const downloads = startDownloads(url, sites, stopDownloads.signal);
    const tally = newTally();
    // RSS every 5 s: a leak climbs all along, a heap finding its size levels off.
    const samples: number[] = [];
    const sampler = setInterval(() => {
      rssBytes(gateway.pid ?? 0).then(
        (bytes) => samples.push(bytes),
        () => undefined,
      );
    }, 5_000);
    const result = await hammer(url, sites, {
      connections: CONNECTIONS,
      durationS: DURATION_S,
      tally,
    }).finally(() => clearInterval(sampler));
    stopDownloads.abort();
    await downloads.done;
    await sleep(SETTLE_MS);
    const rssAfter = await rssBytes(gateway.pid ?? 0);

    gateway.kill('SIGTERM');
    const exitCode = await gatewayExit;

    const healthy5xx =
      (tally.statuses.get('5xx') ?? 0) +
      [...downloads.stats.failures].filter(([k]) => /HTTP 5/.test(k)).length;
    const healthyFailures = [...tally.healthy]
      .filter(([key]) => key !== 'ok')
      .reduce((sum, [, n]) => sum + n, 0);
    const growth = rssAfter / rssWarm - 1;
    const passed = healthy5xx === 0 && healthyFailures === 0 && growth <= 0.2 && exitCode === 0;

    const lines = [
      '',
      `moodle-gateway load test — ${CONNECTIONS} connections, ${DURATION_S} s, 10 sites (3 misbehaving), loopback`,
      `  requests            ${result.requests.total} (${result.requests.average.toFixed(0)} req/s average)`,
      `  latency             p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`,
      `  HTTP                2xx ${result['2xx']}, non-2xx ${result.non2xx}, 5xx ${tally.statuses.get('5xx') ?? 0}, errors ${result.errors}, timeouts ${result.timeouts}`,
      `  downloads           ${downloads.stats.complete} complete, ${mb(downloads.stats.bytes)} streamed`,
      table('healthy sites, per-site outcomes', tally.healthy),
      table('misbehaving sites, per-site outcomes', tally.faulty),
      table('GraphQL errors', tally.graphqlErrors),
      table('download failures', downloads.stats.failures),
      table('circuits opened (warm-up and run)', circuitEvents),
      `  gateway RSS         after warm-up ${mb(rssWarm)}, after the run ${mb(rssAfter)} (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}%)`,
      `  RSS every 5 s       ${samples.map((bytes) => (bytes / 1024 / 1024).toFixed(0)).join(', ')} MB`,
      `  shutdown            SIGTERM → exit ${exitCode}`,
      `  verdict             ${passed ? 'PASS' : 'FAIL'}: 5xx for healthy sites ${healthy5xx}, healthy-site failures ${healthyFailures}, RSS growth ${(growth * 100).toFixed(1)}% (limit +20%)`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
    return passed ? 0 : 1;
  } finally {
    clearTimeout(hardLimit);
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(
      children.map((child) =>
        child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined,
      ),
    );
    await rm(dir, { recursive: true, force: true });
  }
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** A port free on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `/healthz` until the gateway answers (its logs, at warn, do not say when it is ready). */
async function waitForGateway(gateway: ChildProcess, url: string): Promise<void> {
  let stderr = '';
  gateway.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const until = performance.now() + 60_000;
  while (performance.now() < until) {
    if (gateway.exitCode !== null) throw new Error(`the gateway exited (${gateway.exitCode}):\n${stderr}`);
    try {
      const answer = await request(`${url}/healthz`);
      await answer.body.dump();
      if (answer.statusCode === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`the gateway did not answer /healthz within 60 s:\n${stderr}`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
