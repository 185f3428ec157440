/*
 * The benchmarks' Moodles, in a process of their own so that the gateway's CPU and RSS stay its own.
 *   node --import tsx bench/upstreams.ts latency <count> <delayMs>
 *     fake Moodles (the fault injector) answering a real Moodle 4.5's site info, and the provider's
 *     user-synchronization endpoint (lookup, sync), each after `delayMs`: a healthy remote site whose
 *     network and PHP take that long, and no CPU of this machine.
 *   node --import tsx bench/upstreams.ts providers <count>
 *     seeded standalone providers (the real protocol and store), each with a user-sync security token.
 * Prints one JSON line `{ "sites": [...] }` when ready, and stops on SIGTERM.
 */

import { pino } from 'pino';
import { stopOnSignals } from '../src/cli/stop-on-signals.js';
import {
  behaviours,
  type FaultInjector,
  moodleBodies,
  type RecordedRequest,
  startFaultInjector,
} from '../test/support/fault-injector.js';
import { launchSyncProvider } from '../test/support/user-sync-provider.js';

export interface BenchSite {
  readonly url: string;
  /** The web-service token. */
  readonly token: string;
  /** The user-sync endpoint's client and security token. */
  readonly userSync: { readonly client: string; readonly token: string };
}

const [mode = '', countText = '1', delayText = '100'] = process.argv.slice(2);
const count = Number(countText);
const delayMs = Number(delayText);
if (!Number.isInteger(count) || count < 1 || count > 200) throw new Error(`bad site count ${countText}`);

const closers: (() => Promise<void>)[] = [];
const sites: BenchSite[] = [];

/** What a healthy site answers, `delayMs` late: site info, or the user-sync endpoint's lookup and sync. */
function latencySite(request: RecordedRequest) {
  const later = (status: number, body: string, headers: Record<string, string>) => ({
    kind: 'answer' as const,
    status,
    headers,
    body,
    delayMs,
  });
  if (request.path.endsWith('/webservice/rest/server.php')) {
    return behaviours.slowMoodle(moodleBodies.siteInfo, delayMs);
  }
  const text = { 'Content-Type': 'text/plain; charset=utf-8' };
  if (request.path.endsWith('/remote/user/find')) return later(200, '42', text);
  if (request.path.endsWith('/remote/user/sync')) {
    return later(200, '42', { ...text, 'x-remote-user-sync-changed': 'false' });
  }
  return later(404, 'Not found', text);
}

if (mode === 'latency') {
  const injectors: FaultInjector[] = await Promise.all(
    Array.from({ length: count }, () => startFaultInjector(latencySite)),
  );
  for (const injector of injectors) {
    closers.push(() => injector.close());
    // The injector keeps every request it saw; a benchmark does not need them.
    setInterval(() => (injector.requests as RecordedRequest[]).splice(0), 1_000).unref();
    sites.push({
      url: injector.url,
      token: 'bench-site-token-0123456789abcdef',
      userSync: { client: 'portal', token: 'bench-sync-token-0123456789abcdef' },
    });
  }
} else if (mode === 'providers') {
  for (let n = 1; n <= count; n++) {
    const provider = await launchSyncProvider({ siteName: `Bench site ${n}`, binaryBytes: 16 * 1024 });
    closers.push(() => provider.close());
    // The launcher keeps every log line in memory; a benchmark does not read them.
    setInterval(() => provider.logLines.splice(0), 1_000).unref();
    sites.push({
      url: provider.url,
      token: provider.launched.token,
      userSync: { client: provider.client, token: provider.token },
    });
  }
} else {
  throw new Error(`unknown mode ${JSON.stringify(mode)}: latency or providers`);
}

process.stdout.write(`${JSON.stringify({ sites })}\n`);

stopOnSignals(
  async () => {
    await Promise.allSettled(closers.map((close) => close()));
  },
  pino({ level: 'silent' }),
);
