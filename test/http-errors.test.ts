import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, TEST_ADMIN_KEY, type TestGateway } from './support/gateway-harness.js';

describe('errors the HTTP layer answers by itself', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ graphql: { maxBodyBytes: 4096 } });
  });
  afterAll(() => gateway.close());

  async function post(body: string, contentType = 'application/json') {
    const response = await request(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': contentType, authorization: `Bearer ${TEST_ADMIN_KEY}` },
      body,
    });
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
  }

  it('answers malformed JSON on /graphql in the GraphQL shape, with a code', async () => {
    const { status, body } = await post('{"query": ');
    expect(status).toBe(400);
    expect(body).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('answers a body over the limit with 413 and PAYLOAD_TOO_LARGE', async () => {
    const { status, body } = await post(
      JSON.stringify({ query: `{ externalSites { id } } #${'x'.repeat(8000)}` }),
    );
    expect(status).toBe(413);
    expect(body).toEqual({
      errors: [{ message: 'the request body is too large', extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
    });
  });

  it('answers an unknown route with NOT_FOUND and does not echo the path', async () => {
    const secretLookingPath = '/nothing-here/eyJhbGciOiJIUzI1NiJ9.payload.signature';
    const response = await request(`${gateway.url}${secretLookingPath}`);
    expect(response.statusCode).toBe(404);
    const text = await response.body.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'NOT_FOUND', message: 'no such route' } });
    expect(text).not.toContain('eyJ');
  });

  it('answers an over-long download link without echoing it', async () => {
    const link = `eyJ${'a'.repeat(5000)}`;
    const response = await request(`${gateway.url}/download/${link}`, {
      headers: { accept: 'application/json' },
    });
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    expect(await response.body.text()).not.toContain('aaaaaaaaaa');
  });
});
