/*
 * Fan-out: `externalSites` with a cold site-info cache over N sites that each take 100 ms to answer,
 * against the same sites asked directly by this process:
 *   - all N at once: the time until the slowest of them answers, i.e. what a perfect fan-out costs on
 *     this machine, where the N sites share one process and two cores (the target's baseline);
 *   - one after another, as the original block asks them.
 * The slowest call made alone is shown too.
 */
import { Agent, request } from 'undici';
import { type BenchContext, startUpstreams } from './support/context.js';
import { startGatewayProcess } from './support/gateway-process.js';
import { atMost, type BenchLine, line, median, since } from './support/results.js';
import type { BenchSite } from './upstreams.js';

const LATENCY_MS = 100;
const WARM_UP_REQUESTS = 30;
const SITES_QUERY = `{ externalSites { id name info { __typename
  ... on SiteInfo { sitename release version functions { name version } }
  ... on SiteFailure { code message } } } }`;

interface SitesAnswer {
  data?: { externalSites?: { id: string; info: { __typename: string; code?: string } }[] };
  errors?: unknown[];
}

/** One direct `core_webservice_get_site_info` call, as the block makes it; its duration in ms. */
async function askDirectly(dispatcher: Agent, site: BenchSite): Promise<number> {
  const started = performance.now();
  const answer = await request(`${site.url}/webservice/rest/server.php`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      wstoken: site.token,
      wsfunction: 'core_webservice_get_site_info',
      moodlewsrestformat: 'json',
    }).toString(),
  });
  const info = (await answer.body.json()) as { sitename?: string };
  if (info.sitename === undefined) throw new Error(`${site.url} did not answer its site info`);
  return since(started);
}

export async function runFanOut(ctx: BenchContext): Promise<BenchLine[]> {
  const counts = ctx.quick ? [1, 10] : [1, 10, 50];
  const largest = Math.max(...counts);
  ctx.log(`fan-out: starting ${largest} sites answering after ${LATENCY_MS} ms …`);
  const upstreams = await startUpstreams<BenchSite>(['latency', String(largest), String(LATENCY_MS)]);
  // As many connections per site as the gateway's pool may open, so that asking all at once is fair.
  const dispatcher = new Agent({ connections: 64 });
  const lines: BenchLine[] = [];
  try {
    for (const n of counts) {
      const sites = upstreams.sites.slice(0, n);
      const gateway = await startGatewayProcess({
        dir: ctx.dir,
        nodeFlags: ctx.nodeFlags(`fan-out-${n}`),
        config: {
          sites: sites.map((site, index) => ({ id: `site-${index + 1}`, url: site.url, token: site.token })),
          // Every request finds the cache cold: each one asks all N sites.
          siteInfoCacheTtlMs: 0,
        },
      });
      try {
        const ask = async () => {
          const started = performance.now();
          const answer = await request(`${gateway.url}/graphql`, {
            method: 'POST',
            dispatcher,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${gateway.apiKey}` },
            body: JSON.stringify({ query: SITES_QUERY }),
          });
          const body = (await answer.body.json()) as SitesAnswer;
          const ms = since(started);
          const rows = body.data?.externalSites ?? [];
          const healthy = rows.filter((row) => row.info.__typename === 'SiteInfo').length;
          if (answer.statusCode !== 200 || healthy !== n) {
            throw new Error(`fan-out N=${n}: ${healthy}/${n} sites answered: ${JSON.stringify(body)}`);
          }
          return ms;
        };
        // Connections opened and code compiled (a process's first few dozen requests run unoptimised
        // code: measured in steady state, as a gateway serving traffic is). The cache stays cold (its
        // TTL is 0); the pools and the JIT do not.
        for (let warm = 0; warm < (ctx.quick ? 5 : WARM_UP_REQUESTS); warm++) {
          await ask();
          await Promise.all(sites.map((site) => askDirectly(dispatcher, site)));
        }

        // A sweep one by one takes N × 100 ms: fewer of them at N = 50, more pairs between them.
        const sweeps = n >= 50 ? 2 : 3;
        const perSweep = ctx.quick ? 2 : n >= 50 ? 6 : 4;
        const alone: number[] = [];
        const sequential: number[] = [];
        const atOnce: number[] = [];
        const through: number[] = [];
        for (let sweep = 0; sweep < sweeps; sweep++) {
          const each: number[] = [];
          for (const site of sites) each.push(await askDirectly(dispatcher, site));
          alone.push(Math.max(...each));
          sequential.push(each.reduce((sum, ms) => sum + ms, 0));
          // In turn, so that both find the same idle connections and the same quiet sites.
          for (let k = 0; k < perSweep; k++) {
            const started = performance.now();
            await Promise.all(sites.map((site) => askDirectly(dispatcher, site)));
            atOnce.push(since(started));
            through.push(await ask());
          }
        }
        const target = n === largest && !ctx.quick ? atMost(1.15) : undefined;
        lines.push(
          line({
            bench: 'fan-out',
            case: `N=${n} vs slowest call`,
            unit: 'ms',
            baselineName: 'slowest of the N asked directly at once',
            values: through,
            baselines: atOnce,
            ...(target && { target }),
            extra: { 'slowest call alone ms': Number(median(alone).toFixed(1)) },
          }),
          line({
            bench: 'fan-out',
            case: `N=${n} vs one by one`,
            unit: 'ms',
            baselineName: 'N sites one after another',
            values: through,
            baselines: sequential,
          }),
        );
        ctx.log(
          `fan-out N=${n}: gateway ${lines.at(-1)?.value.toFixed(1)} ms, slowest ${lines.at(-2)?.baseline.toFixed(1)} ms`,
        );
      } finally {
        await gateway.stop();
      }
    }
  } finally {
    await dispatcher.close();
    await upstreams.stop();
  }
  return lines;
}
