import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

interface Readyz {
  status: string;
  checks: Record<string, string>;
  sites: { site: string; lastOutcome: string; lastCallAt: string | null }[];
}

describe('/healthz and /readyz', () => {
  let gateway: TestGateway;
  let dataDir: string;

  async function readyz(): Promise<{ status: number; body: Readyz }> {
    const response = await request(`${gateway.url}/readyz`);
    return { status: response.statusCode, body: (await response.body.json()) as Readyz };
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'health-'));
    gateway = await startTestGateway({
      sites: [{ id: 'down', url: 'http://127.0.0.1:9', token: '0123456789abcdef0123456789abcdef' }],
      provider: { enabled: true, seedDemo: true, federateAs: 'local', dataDir },
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is ready when the store and the configuration are, listing the sites not yet called as unknown', async () => {
    const { status, body } = await readyz();
    expect(status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.checks).toMatchObject({ config: 'ok', store: 'ok' });
    expect(Object.values(body.checks).every((check) => check === 'ok')).toBe(true);
    expect(body.sites).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          tenant: 'default',
          site: 'down',
          lastOutcome: 'unknown',
          lastCallAt: null,
        }),
        expect.objectContaining({
          tenant: 'default',
          site: 'local',
          lastOutcome: 'unknown',
          lastCallAt: null,
        }),
      ]),
    );
  });

  it('reports a failing site without becoming unready', async () => {
    await gateway.graphql('{ externalSites { id info { __typename } } }');
    const { status, body } = await readyz();
    expect(status).toBe(200);
    expect(body.sites.find((site) => site.site === 'down')).toMatchObject({ lastOutcome: 'UNREACHABLE' });
    expect(body.sites.find((site) => site.site === 'local')).toMatchObject({ lastOutcome: 'ok' });
    expect(body.sites.find((site) => site.site === 'down')?.lastCallAt).toEqual(expect.any(String));
    // The circuit breaker's view is reported beside the last outcome.
    expect(body.sites.find((site) => site.site === 'local')).toMatchObject({ circuit: 'closed' });
  });

  it('answers 503 naming the store once the store is closed, while /healthz stays 200', async () => {
    await gateway.gateway.provider?.store.close();
    const { status, body } = await readyz();
    expect(status).toBe(503);
    expect(body.status).toBe('not ready');
    expect(body.checks.config).toBe('ok');
    expect(body.checks.store).toContain('closed');
    const health = await request(`${gateway.url}/healthz`);
    expect(health.statusCode).toBe(200);
    await health.body.dump();
  });
});
