import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, TEST_ADMIN_KEY, type TestGateway } from './support/gateway-harness.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';

const WRONG_TOKEN = '0123456789abcdef0123456789abcdef';

describe('request ids in logs', () => {
  let provider: LaunchedProvider;
  let gateway: TestGateway;

  async function query(headers: Record<string, string>) {
    const response = await request(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_KEY}`, ...headers },
      body: JSON.stringify({ query: '{ externalSites { id info { __typename } } }' }),
    });
    await response.body.dump();
    return response.headers['x-request-id'] as string;
  }

  function linesOf(reqId: string) {
    return gateway.logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.reqId === reqId);
  }

  beforeAll(async () => {
    provider = await launchRestProvider({ binaryBytes: 1000 });
    gateway = await startTestGateway({
      sites: [
        { id: 'ok', url: provider.url, token: provider.token },
        { id: 'revoked', url: provider.url, token: WRONG_TOKEN },
      ],
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await provider?.close();
  });

  it("keeps a caller's X-Request-Id, answers it, and puts it on the site call lines and the request line", async () => {
    const reqId = await query({ 'x-request-id': 'lb-7f3a-0001' });
    expect(reqId).toBe('lb-7f3a-0001');
    const lines = linesOf(reqId);
    const failed = lines.find((line) => line.site === 'revoked' && line.code === 'INVALID_TOKEN');
    expect(failed).toMatchObject({ wsfunction: 'core_webservice_get_site_info', ms: expect.any(Number) });
    expect(
      lines.find((line) => line.site === 'ok' && line.wsfunction === 'core_webservice_get_site_info'),
    ).toBeDefined();
    expect(lines.find((line) => line.msg === 'request')).toMatchObject({ path: '/graphql', status: 200 });
  });

  it('every line about a site call during a request carries that request id, and each request its own', async () => {
    const first = await query({});
    const second = await query({});
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(second).not.toBe(first);
    const siteLines = gateway.logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.site === 'revoked');
    expect(siteLines.length).toBeGreaterThanOrEqual(3);
    expect(siteLines.every((line) => typeof line.reqId === 'string')).toBe(true);
    expect(linesOf(second).filter((line) => line.site === 'revoked')).toHaveLength(1);
  });

  it('replaces a request id that could forge log content', async () => {
    const reqId = await query({ 'x-request-id': 'x" injected="1' });
    expect(reqId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never logs a token', () => {
    const all = gateway.logLines.join('\n');
    expect(all).not.toContain(provider.token);
    expect(all).not.toContain(WRONG_TOKEN);
    expect(all).not.toContain(TEST_ADMIN_KEY);
  });
});
