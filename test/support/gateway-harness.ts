import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { request } from 'undici';
import { sha256Hex } from '../../src/auth/authenticate.js';
import { type GatewayConfigInput, gatewayConfigSchema } from '../../src/config/config-schema.js';
import { createLogger } from '../../src/server/logger.js';
import { type RunningGateway, startGateway } from '../../src/server/start-gateway.js';
import { newCapture, saveCapture } from './secret-capture.js';

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

const MAX_CAPTURED_BODY = 256 * 1024;

/** Keeps a copy of every response body the server sends (zips excepted), as it goes out on the socket. */
function tapResponses(server: Server, said: string[]): void {
  server.prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (chunk: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function' || size > MAX_CAPTURED_BODY)
        return;
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += buffer.length;
      chunks.push(buffer);
    };
    const write = response.write.bind(response);
    const end = response.end.bind(response);
    response.write = ((chunk: unknown, ...rest: never[]) => {
      keep(chunk);
      return write(chunk as never, ...rest);
    }) as typeof response.write;
    response.end = ((chunk?: unknown, ...rest: never[]) => {
      keep(chunk);
      const type = String(response.getHeader('content-type') ?? '');
      if (!type.startsWith('application/zip')) {
        said.push(`${JSON.stringify(response.getHeaders())} ${Buffer.concat(chunks).toString('utf8')}`);
      }
      return end(chunk as never, ...rest);
    }) as typeof response.end;
  });
}

/** Every test gateway knows this admin key; `graphql()` sends it unless told otherwise (`authorization: ''`). */
export const TEST_ADMIN_KEY = 'test-admin-key-do-not-use-in-production';

/** A whole gateway on 127.0.0.1, port 0, with a capturing logger. */
export async function startTestGateway(
  config: GatewayConfigInput = {},
  options: { readonly secrets?: readonly string[] } = {},
): Promise<TestGateway> {
  const logLines: string[] = [];
  const capture = newCapture();
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const lines = chunk.toString('utf8').split('\n').filter(Boolean);
      logLines.push(...lines);
      capture.said.push(...lines);
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
  for (const site of parsed.sites) capture.secrets.add(site.token);
  for (const secret of [
    TEST_ADMIN_KEY,
    parsed.downloadLinks.secret,
    parsed.auth.jwt?.secret,
    gateway.demoToken,
    gateway.demoAdminKey,
    ...(options.secrets ?? []),
  ]) {
    if (secret) capture.secrets.add(secret);
  }
  tapResponses(gateway.app.server, capture.said);
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
    async close() {
      await gateway.close();
      saveCapture(capture);
    },
  };
}
