import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/auth/authenticate.js';
import { startTestGateway, TEST_ADMIN_KEY, type TestGateway } from './support/gateway-harness.js';

const SERVICE_KEY = 'upload-gate-service-key-0123456789';
const BOUNDARY = 'upload-gate-boundary';
const UPLOAD = `mutation($file: File!) { uploadPrivateFile(username: "dave", filename: "a.bin", file: $file) { size } }`;

/** A multipart upload of `size` bytes, sent up to its last `held` bytes until `finish` is called. */
function startUpload(url: string, authorization: string | null, size: number, held: number) {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n` +
      `${JSON.stringify({ query: UPLOAD, variables: { file: null } })}\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.file"]}\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="a.bin"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const file = Buffer.alloc(size, 7);
  const client = httpRequest(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'content-length': head.length + size + tail.length,
      ...(authorization && { authorization }),
    },
  });
  client.on('error', () => {});
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    client.on('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    });
  });
  client.write(Buffer.concat([head, file.subarray(0, size - held)]));
  return {
    answer,
    finish: () => client.end(Buffer.concat([file.subarray(size - held), tail])),
    abort: () => client.destroy(),
  };
}

const codeOf = (body: string) =>
  (JSON.parse(body) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code;

describe('file uploads are read only for administrators, a few at once', () => {
  let gateway: TestGateway;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'upload-gate-'));
    gateway = await startTestGateway(
      {
        provider: { enabled: true, dataDir, maxUploadBytes: 8 * 1024 * 1024, maxConcurrentUploads: 1 },
        auth: { apiKeys: [{ id: 'portal', sha256: sha256Hex(SERVICE_KEY), role: 'service' }] },
      },
      { secrets: [SERVICE_KEY] },
    );
    const created = await gateway.graphql(
      'mutation { createProviderUser(input: { username: "dave" }) { username } }',
    );
    expect(created.body.errors).toBeUndefined();
  });
  afterAll(async () => {
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers anyone else before reading the body: 401 for anonymous callers, 403 for a service', async () => {
    // 4 MiB declared, 64 KiB sent: an answer now proves the gateway did not wait for the rest.
    const anonymous = startUpload(gateway.url, null, 4 * 1024 * 1024, 4 * 1024 * 1024 - 64 * 1024);
    const refused = await anonymous.answer;
    anonymous.abort();
    expect(refused.status).toBe(401);
    expect(codeOf(refused.body)).toBe('UNAUTHENTICATED');

    const service = startUpload(
      gateway.url,
      `Bearer ${SERVICE_KEY}`,
      4 * 1024 * 1024,
      4 * 1024 * 1024 - 64 * 1024,
    );
    const forbidden = await service.answer;
    service.abort();
    expect(forbidden.status).toBe(403);
    expect(codeOf(forbidden.body)).toBe('FORBIDDEN');
  });

  it('reads at most maxConcurrentUploads at once; the next one is told to come back, and loses nothing', async () => {
    const admin = `Bearer ${TEST_ADMIN_KEY}`;
    const first = startUpload(gateway.url, admin, 256 * 1024, 1024);
    // Let the first be admitted and start being read.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = startUpload(gateway.url, admin, 1024, 512);
    const busy = await second.answer;
    second.abort();
    expect(busy.status).toBe(503);
    expect(codeOf(busy.body)).toBe('TOO_MANY_UPLOADS');

    first.finish();
    const done = await first.answer;
    expect(done.status).toBe(200);
    expect(JSON.parse(done.body)).toEqual({ data: { uploadPrivateFile: { size: 256 * 1024 } } });

    const third = startUpload(gateway.url, admin, 2048, 0);
    third.finish();
    expect(JSON.parse((await third.answer).body)).toEqual({ data: { uploadPrivateFile: { size: 2048 } } });
  });
});
