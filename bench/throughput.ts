/*
 * Throughput: warm-cache `externalSites` over 10 sites, 100 connections (autocannon), against a bare
 * graphql-yoga server answering the same query from constants on the same machine, in the same run.
 * The gateway as it runs by default (its response cache answers the repeated query), and a second one
 * with the response cache off (every request executed), so both figures come from the same run.
 */
import autocannon from 'autocannon';
import { request } from 'undici';
import { type BenchContext, startUpstreams } from './support/context.js';
import { startGatewayProcess } from './support/gateway-process.js';
import { lineOf, spawnTs } from './support/processes.js';
import { atLeast, type BenchLine, line, median } from './support/results.js';
import type { BenchSite } from './upstreams.js';

const SITES = 10;
const CONNECTIONS = 100;
const QUERY = `{ externalSites { id name info { __typename
  ... on SiteInfo { sitename release version functions { name version } }
  ... on SiteFailure { code message } } } }`;

interface Target {
  readonly url: string;
  readonly headers: Record<string, string>;
}

async function hammer(target: Target, durationS: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${target.url}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify({ query: QUERY }),
    connections: CONNECTIONS,
    duration: durationS,
    // A bound whatever the rate.
    maxOverallRequests: 5_000_000,
    timeout: 10,
  });
}

/** Checks the answer is the real one (10 sites, each with its info) before measuring anything. */
async function check(target: Target, what: string): Promise<void> {
  const answer = await request(`${target.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify({ query: QUERY }),
  });
  const body = (await answer.body.json()) as {
    data?: { externalSites?: { info: { __typename: string } }[] };
  };
  const infos = body.data?.externalSites?.filter((site) => site.info.__typename === 'SiteInfo').length;
  if (answer.statusCode !== 200 || infos !== SITES) {
    throw new Error(`throughput: ${what} answered ${answer.statusCode} ${JSON.stringify(body)}`);
  }
}

export async function runThroughput(ctx: BenchContext): Promise<BenchLine[]> {
  const runs = ctx.quick ? 1 : 3;
  const durationS = ctx.quick ? 3 : 8;
  ctx.log(`throughput: starting ${SITES} providers, the gateway and a bare Yoga …`);
  const upstreams = await startUpstreams<BenchSite>(['providers', String(SITES)]);
  const yogaChild = spawnTs('bench/bare-yoga.ts', [String(SITES)], {
    env: { NODE_ENV: 'production' },
    nodeFlags: ctx.nodeFlags('throughput-bare-yoga'),
  });
  try {
    const yoga: Target = {
      url: (JSON.parse(await lineOf(yogaChild, /^\{"url"/, 'the bare Yoga')) as { url: string }).url,
      headers: {},
    };
    const sites = upstreams.sites.map((site, index) => ({
      id: `site-${index + 1}`,
      url: site.url,
      token: site.token,
    }));
    const cached = await startGatewayProcess({
      dir: ctx.dir,
      nodeFlags: ctx.nodeFlags('throughput-gateway'),
      config: { sites },
    });
    const executing = await startGatewayProcess({
      dir: ctx.dir,
      nodeFlags: ctx.nodeFlags('throughput-gateway-no-response-cache'),
      config: { sites, graphql: { responseCache: { maxEntries: 0 } } },
    });
    try {
      const targetOf = (gateway: typeof cached): Target => ({
        url: gateway.url,
        headers: { authorization: `Bearer ${gateway.apiKey}` },
      });
      const series = (name: string, target: Target) => ({
        name,
        target,
        rates: [] as number[],
        p99s: [] as number[],
      });
      const bare = series('bare Yoga', yoga);
      const gateway = series('gateway', targetOf(cached));
      const uncached = series('gateway, response cache off', targetOf(executing));
      const measured = [bare, gateway, uncached];
      // The first answer fills the site-info cache: from then on no site is asked (5 min TTL).
      for (const { name, target } of measured) await check(target, name);
      ctx.log('throughput: warming up …');
      for (const { target } of measured) await hammer(target, 2);

      const problems: string[] = [];
      for (let run = 0; run < runs; run++) {
        for (const { name, target, rates, p99s } of measured) {
          const result = await hammer(target, durationS);
          if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
            problems.push(
              `${name}: non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}`,
            );
          }
          rates.push(result.requests.average);
          p99s.push(result.latency.p99);
          ctx.log(
            `throughput run ${run + 1}/${runs}: ${name} ${result.requests.average.toFixed(0)} req/s, p99 ${result.latency.p99} ms`,
          );
        }
      }
      for (const { name, target } of measured) await check(target, name);
      const common = { connections: CONNECTIONS, 'rateLimit.max': 0 };
      const note = problems.length > 0 ? { note: problems.join('; ') } : {};
      return [
        line({
          bench: 'throughput',
          case: `externalSites, ${SITES} sites, warm`,
          unit: 'req/s',
          baselineName: 'bare graphql-yoga',
          values: gateway.rates,
          baselines: bare.rates,
          target: atLeast(0.7),
          extra: { 'p99 ms': median(gateway.p99s), 'bare p99 ms': median(bare.p99s), ...common },
          ...note,
        }),
        line({
          bench: 'throughput',
          case: `same, response cache off`,
          unit: 'req/s',
          baselineName: 'bare graphql-yoga',
          values: uncached.rates,
          baselines: bare.rates,
          extra: { 'p99 ms': median(uncached.p99s), 'bare p99 ms': median(bare.p99s), ...common },
          ...note,
        }),
      ];
    } finally {
      await cached.stop();
      await executing.stop();
    }
  } finally {
    await yogaChild.stop();
    await upstreams.stop();
  }
}
