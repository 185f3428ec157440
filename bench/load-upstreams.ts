/*
 * The load test's Moodles, in a process of their own so that neither the gateway's RSS nor the load
 * generator's CPU is theirs: 7 seeded standalone providers (healthy) and 3 fault injectors (one never
 * answers, one answers HTML 500 pages, one floods 50 MB of JSON), all on 127.0.0.1.
 *   node --import tsx bench/load-upstreams.ts
 * Prints one JSON line `{ "sites": [...] }` when ready, and stops on SIGTERM.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { stopOnSignals } from '../src/cli/stop-on-signals.js';
import { createProviderAdmin } from '../src/provider/provider-admin.js';
import { seedDemo } from '../src/provider/seed-demo.js';
import { startStandaloneProvider } from '../src/provider/standalone.js';
import { behaviours, type FaultInjector, startFaultInjector } from '../test/support/fault-injector.js';

export interface UpstreamSite {
  readonly id: string;
  readonly url: string;
  readonly token: string;
  readonly healthy: boolean;
}

const HEALTHY_SITES = 7;

const root = await mkdtemp(join(tmpdir(), 'gateway-load-'));
const closers: (() => Promise<void>)[] = [];
const sites: UpstreamSite[] = [];

for (let n = 1; n <= HEALTHY_SITES; n++) {
  const id = `healthy-${n}`;
  const provider = await startStandaloneProvider({
    dataDir: join(root, id),
    siteName: `Load test site ${n}`,
    // Zips pile up at load: old ones go every 10 s, as the plugin's task would (daily) on a real site.
    cleanup: { cron: '*/10 * * * * *', maxAgeMs: 20_000, orphanGraceMs: 20_000 },
  });
  closers.push(() => provider.close());
  const seed = await seedDemo(createProviderAdmin({ store: provider.store }), {
    siteName: `Load test site ${n}`,
    // A small area keeps each zip build cheap: the test loads the gateway, not archiver.
    binaryBytes: 64 * 1024,
  });
  sites.push({ id, url: provider.url, token: seed.token, healthy: true });
}

const faults: [string, FaultInjector][] = [
  ['hanging', await startFaultInjector(behaviours.neverAnswer())],
  ['broken', await startFaultInjector(behaviours.html(500))],
  ['flooding', await startFaultInjector(behaviours.floodJson(50 * 1024 * 1024))],
];
for (const [id, injector] of faults) {
  closers.push(() => injector.close());
  sites.push({ id, url: injector.url, token: `token-of-${id}-0123456789`, healthy: false });
}

process.stdout.write(`${JSON.stringify({ sites })}\n`);

stopOnSignals(
  async () => {
    await Promise.allSettled(closers.map((close) => close()));
    await rm(root, { recursive: true, force: true });
  },
  pino({ level: 'silent' }),
);
