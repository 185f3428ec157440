import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { parsePrometheus, sampleSum } from './support/prometheus-text.js';

describe('circuit state in /metrics', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({
      sites: [{ id: 'down', url: 'http://127.0.0.1:9', token: '0123456789abcdef0123456789abcdef' }],
      circuitBreaker: { failureThreshold: 1, openMs: 60_000 },
      retries: { siteInfo: 0 },
    });
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('shows a site circuit opening, and counts the CIRCUIT_OPEN answers by code', async () => {
    const query = '{ externalSites { id info { __typename ... on SiteFailure { code } } } }';
    const scrape = async () => parsePrometheus(await (await request(`${gateway.url}/metrics`)).body.text());
    const closed = await scrape();
    expect(sampleSum(closed, 'moodle_gateway_site_circuit_state', { site: 'down', state: 'closed' })).toBe(1);

    await gateway.graphql(query);
    const answer = await gateway.graphql<{ externalSites: { info: { code: string } }[] }>(query);
    expect(answer.body.data?.externalSites[0]?.info.code).toBe('CIRCUIT_OPEN');

    const open = await scrape();
    expect(sampleSum(open, 'moodle_gateway_site_circuit_state', { site: 'down', state: 'open' })).toBe(1);
    expect(sampleSum(open, 'moodle_gateway_site_circuit_state', { site: 'down', state: 'closed' })).toBe(0);
    expect(sampleSum(open, 'moodle_gateway_site_failures_total', { site: 'down', code: 'UNREACHABLE' })).toBe(
      1,
    );
    expect(
      sampleSum(open, 'moodle_gateway_site_failures_total', { site: 'down', code: 'CIRCUIT_OPEN' }),
    ).toBe(1);
  });
});
