/*
 * Provisioning fan-out: `syncUser` pushed to 10 sites at once vs to one of them, through the gateway.
 *   target line: sites that each answer the user-sync endpoint (lookup, then sync) after 100 ms, so
 *     that what is measured is the gateway's fan-out;
 *   info line: 10 real providers, all in one process on this machine, each hashing the password
 *     (scrypt, 32 MiB, on purpose slow): it shows this machine's cores, not the fan-out.
 */
import { Agent, request } from 'undici';
import { type BenchContext, startUpstreams } from './support/context.js';
import { startGatewayProcess } from './support/gateway-process.js';
import { atMost, type BenchLine, line, since } from './support/results.js';
import type { BenchSite } from './upstreams.js';

const SITES = 10;
const LATENCY_MS = 100;
const SYNC = `mutation Sync($input: SyncUserInput!, $sites: [ID!]) {
  syncUser(input: $input, sites: $sites) {
    __typename ... on UserSynced { site userId changed } ... on SiteFailure { site code message }
  }
}`;

interface SyncAnswer {
  data?: { syncUser?: { __typename: string; site: string; code?: string; message?: string }[] };
  errors?: unknown[];
}

async function measure(
  ctx: BenchContext,
  kind: 'latency' | 'providers',
  runs: number,
): Promise<{ all: number[]; one: number[] }> {
  const upstreams = await startUpstreams<BenchSite>(
    kind === 'latency' ? ['latency', String(SITES), String(LATENCY_MS)] : ['providers', String(SITES)],
  );
  const dispatcher = new Agent({ connections: 2 });
  try {
    const gateway = await startGatewayProcess({
      dir: ctx.dir,
      nodeFlags: ctx.nodeFlags(`provisioning-${kind}`),
      config: {
        sites: upstreams.sites.map((site, index) => ({
          id: `site-${index + 1}`,
          url: site.url,
          token: site.token,
          kind: 'provider' as const,
          userSync: site.userSync,
        })),
      },
    });
    try {
      let user = 0;
      const sync = async (sites: readonly string[] | undefined) => {
        // A new user each time, so that every site creates one: the same work on every run.
        user += 1;
        const started = performance.now();
        const answer = await request(`${gateway.url}/graphql`, {
          method: 'POST',
          dispatcher,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${gateway.apiKey}` },
          body: JSON.stringify({
            query: SYNC,
            variables: {
              input: {
                username: `bench-user-${user}`,
                firstName: 'Bench',
                lastName: `User ${user}`,
                email: `bench-user-${user}@example.com`,
                password: 'Bench-password-42',
                workspaces: [{ workspace: 'W1', role: 'collaborator' }],
              },
              ...(sites && { sites }),
            },
          }),
        });
        const body = (await answer.body.json()) as SyncAnswer;
        const ms = since(started);
        const results = body.data?.syncUser ?? [];
        const synced = results.filter((result) => result.__typename === 'UserSynced').length;
        const expected = sites?.length ?? SITES;
        if (synced !== expected) {
          throw new Error(`provisioning (${kind}): ${synced}/${expected} synced: ${JSON.stringify(body)}`);
        }
        return ms;
      };
      // Connections opened and code compiled, as in a gateway serving traffic.
      for (let warm = 0; warm < (ctx.quick || kind === 'providers' ? 2 : 10); warm++) {
        await sync(['site-1']);
        await sync(undefined);
      }
      const all: number[] = [];
      const one: number[] = [];
      for (let run = 0; run < runs; run++) {
        one.push(await sync(['site-1']));
        all.push(await sync(undefined));
      }
      return { all, one };
    } finally {
      await gateway.stop();
    }
  } finally {
    await dispatcher.close();
    await upstreams.stop();
  }
}

export async function runProvisioning(ctx: BenchContext): Promise<BenchLine[]> {
  const runs = ctx.quick ? 3 : 7;
  ctx.log(`provisioning: ${SITES} sites answering the user-sync endpoint after ${LATENCY_MS} ms …`);
  const latency = await measure(ctx, 'latency', runs);
  ctx.log(`provisioning: ${SITES} real providers in one process …`);
  const real = await measure(ctx, 'providers', ctx.quick ? 2 : 3);
  return [
    line({
      bench: 'provisioning',
      case: `syncUser, ${SITES} sites (+${LATENCY_MS} ms each)`,
      unit: 'ms',
      baselineName: 'one site',
      values: latency.all,
      baselines: latency.one,
      ...(!ctx.quick && { target: atMost(1.2) }),
    }),
    line({
      bench: 'provisioning',
      case: `syncUser, ${SITES} real providers`,
      unit: 'ms',
      baselineName: 'one provider',
      values: real.all,
      baselines: real.one,
      note: `all ${SITES} providers share this machine's cores, each hashing the password (scrypt)`,
    }),
  ];
}
