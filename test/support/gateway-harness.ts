import { Writable } from 'node:stream';
import { request } from 'undici';
import { sha256Hex } from '../../src/auth/authenticate.js';
import { type GatewayConfigInput, gatewayConfigSchema } from '../../src/config/config-schema.js';
import { createLogger } from '../../src/server/logger.js';
import { type RunningGateway, startGateway } from '../../src/server/start-gateway.js';

export interface TestGateway {
  readonly gateway: RunningGateway;
  readonly url: string;
  /** Every log line the gateway wrote, parsed. */
  readonly logLines: string[];
  graphql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{
    status: number;
    body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  }>;
  close(): Promise<void>;
}

/** Every test gateway knows this admin key; `graphql()` sends it unless told otherwise (`authorization: ''`). */
export const TEST_ADMIN_KEY = 'test-admin-key-do-not-use-in-production';

/** A whole gateway on 127.0.0.1, port 0, with a capturing logger. */
export async function startTestGateway(config: GatewayConfigInput = {}): Promise<TestGateway> {
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const parsed = gatewayConfigSchema.parse({
    ...config,
    server: { host: '127.0.0.1', port: 0, shutdownGraceMs: 2000, ...config.server },
    downloadLinks: { secret: 'test-link-secret-0123456789abcdef0123456789', ...config.downloadLinks },
    auth: {
      ...config.auth,
      apiKeys: [
        { id: 'test-admin', sha256: sha256Hex(TEST_ADMIN_KEY), role: 'admin' },
        ...(config.auth?.apiKeys ?? []),
      ],
    },
  });
  const gateway = await startGateway(parsed, createLogger({ level: 'debug', destination }));
  const url = gateway.url.toString().replace(/\/$/, '');
  return {
    gateway,
    url,
    logLines,
    async graphql(query, variables, headers = {}) {
      const response = await request(`${url}/graphql`, {
        method: 'POST',
        headers: Object.fromEntries(
          Object.entries({
            'content-type': 'application/json',
            accept: 'application/json',
            authorization: `Bearer ${TEST_ADMIN_KEY}`,
            ...headers,
          }).filter(([, value]) => value !== ''),
        ),
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.statusCode, body: (await response.body.json()) as never };
    },
    close: () => gateway.close(),
  };
}
