/*
 * The gateway as production runs it (`moodle-gateway serve --config FILE`, NODE_ENV=production), in a
 * child process of its own so that its RSS and CPU are its own.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GatewayConfigInput } from '../../src/config/config-schema.js';
import { type Child, freePort, spawnTs, waitForHttp } from './processes.js';

export interface GatewayProcess {
  readonly child: Child;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Sent as `Authorization: Bearer …`: an admin API key made up for this run. */
  readonly apiKey: string;
  stop(): Promise<void>;
}

export interface GatewayProcessOptions {
  /** The sites, and anything else that differs from the product's defaults. */
  readonly config: GatewayConfigInput;
  /** Where the config file is written. */
  readonly dir: string;
  /** Extra `node` flags, e.g. `--cpu-prof` (BENCH_PROFILE). */
  readonly nodeFlags?: readonly string[];
}

/**
 * Starts a gateway with the product's defaults but for: loopback, a made-up admin key, a link secret,
 * and `rateLimit.max: 0` — one load generator from one address would otherwise measure the rate
 * limiter refusing it, not the gateway. Authentication, GraphQL armor, metrics and logging (`info`,
 * one line per request, to /dev/null) stay on the path.
 */
export async function startGatewayProcess({
  config,
  dir,
  nodeFlags = [],
}: GatewayProcessOptions): Promise<GatewayProcess> {
  const apiKey = randomBytes(24).toString('hex');
  const port = await freePort();
  const file = join(dir, `gateway-${port}.json`);
  const full: GatewayConfigInput = {
    ...config,
    server: { host: '127.0.0.1', port, ...config.server },
    auth: {
      ...config.auth,
      apiKeys: [
        { id: 'bench', sha256: createHash('sha256').update(apiKey).digest('hex'), role: 'admin' },
        ...(config.auth?.apiKeys ?? []),
      ],
    },
    rateLimit: { ...config.rateLimit, max: 0 },
    downloadLinks: { secret: randomBytes(32).toString('hex'), ...config.downloadLinks },
  };
  await writeFile(file, JSON.stringify(full));
  const child = spawnTs('src/main.ts', ['serve', '--config', file], {
    // The allocator settings `npm start` and the documented systemd unit give it (docs/operations.md).
    env: {
      NODE_ENV: 'production',
      LOG_FORMAT: 'json',
      MALLOC_TRIM_THRESHOLD_: '268435456',
      MALLOC_TOP_PAD_: '16777216',
    },
    nodeFlags,
    stdout: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(child, `${url}/healthz`, 'the gateway');
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { child, url, apiKey, stop: () => child.stop() };
}
