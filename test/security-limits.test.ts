import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  behaviours,
  type FaultInjector,
  moodleBodies,
  startFaultInjector,
  zipHeaders,
} from './support/fault-injector.js';
import { startTestGateway, TEST_ADMIN_KEY, type TestGateway } from './support/gateway-harness.js';

describe('rate limits per caller', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ rateLimit: { max: 3, windowMs: 60_000 } });
  });
  afterAll(() => gateway.close());

  it('answers 429 with Retry-After past the limit, counting each caller on its own', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await gateway.graphql('{ externalSites { id } }')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await request(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_KEY}` },
      body: JSON.stringify({ query: '{ externalSites { id } }' }),
    });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const body = (await limited.body.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('RATE_LIMITED');
    // The admin key is spent; an anonymous caller (by IP) still has its own allowance.
    expect((await gateway.graphql('{ externalSites { id } }', undefined, { authorization: '' })).status).toBe(
      200,
    );
  });
});

describe('CORS', () => {
  it('answers only the configured origins', async () => {
    const gateway = await startTestGateway({ corsOrigins: ['https://portal.example'] });
    try {
      const preflight = (origin: string) =>
        request(`${gateway.url}/graphql`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        });
      const allowed = await preflight('https://portal.example');
      expect(allowed.headers['access-control-allow-origin']).toBe('https://portal.example');
      await allowed.body.dump();
      const other = await preflight('https://evil.example');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      await other.body.dump();
    } finally {
      await gateway.close();
    }
  });

  it('answers no origin at all by default', async () => {
    const gateway = await startTestGateway();
    try {
      const response = await request(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ externalSites { id } }' }),
      });
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      await response.body.dump();
    } finally {
      await gateway.close();
    }
  });
});

describe('downloads per user', () => {
  let moodle: FaultInjector;
  let gateway: TestGateway;
  beforeAll(async () => {
    moodle = await startFaultInjector((recorded) => {
      if (recorded.path.endsWith('/server.php')) {
        return recorded.form.wsfunction === 'core_webservice_get_site_info'
          ? behaviours.moodle(moodleBodies.siteInfo)
          : behaviours.moodle(moodleBodies.privateFilesZip);
      }
      return {
        kind: 'trickle',
        headers: zipHeaders(),
        // Starts like a zip (a local file header), then trickles.
        chunk: Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(252, 1)]),
        count: 200,
        intervalMs: 25,
      };
    });
    gateway = await startTestGateway({
      sites: [{ id: 'peer', url: moodle.url, token: 'peer-token-0123456789' }],
      rateLimit: { downloadsPerUser: 2 },
    });
  });
  afterAll(async () => {
    await gateway.close();
    await moodle.close();
  });

  it('are limited in number at once: the third waits its turn with a 429', async () => {
    const link = async (username: string) => {
      const { body } = await gateway.graphql<{ privateFilesZip: { downloadUrl: string } }>(
        `{ privateFilesZip(site: "peer", username: "${username}") { ... on PrivateFilesZip { downloadUrl } } }`,
      );
      return body.data?.privateFilesZip.downloadUrl as string;
    };
    const first = await request(await link('alice'));
    const second = await request(await link('alice'));
    const third = await request(await link('alice'), { headers: { accept: 'application/json' } });
    expect([first.statusCode, second.statusCode, third.statusCode]).toEqual([200, 200, 429]);
    expect(third.headers['retry-after']).toBe('5');
    await third.body.dump();
    const otherUser = await request(await link('bob'));
    expect(otherUser.statusCode).toBe(200);
    for (const response of [first, second, otherUser]) response.body.destroy();
  });

  it('count all-sites bundles too: a bundle takes one of the same slots', async () => {
    const zipLink = async () => {
      const { body } = await gateway.graphql<{ privateFilesZip: { downloadUrl: string } }>(
        '{ privateFilesZip(site: "peer", username: "carol") { ... on PrivateFilesZip { downloadUrl } } }',
      );
      return body.data?.privateFilesZip.downloadUrl as string;
    };
    const bundleLink = async () => {
      const { body } = await gateway.graphql<{ privateFilesBundle: { downloadUrl: string } }>(
        '{ privateFilesBundle(username: "carol") { downloadUrl } }',
      );
      return body.data?.privateFilesBundle.downloadUrl as string;
    };
    const first = await request(await zipLink());
    const bundle = await request(await bundleLink());
    expect([first.statusCode, bundle.statusCode]).toEqual([200, 200]);
    const refused = await request(await zipLink(), { headers: { accept: 'application/json' } });
    expect(refused.statusCode).toBe(429);
    expect(((await refused.body.json()) as { error?: { code?: string } }).error?.code).toBe(
      'TOO_MANY_DOWNLOADS',
    );
    const refusedBundle = await request(await bundleLink(), { headers: { accept: 'application/json' } });
    expect(refusedBundle.statusCode).toBe(429);
    await refusedBundle.body.dump();

    // The bundle's slot comes back when its client leaves.
    bundle.body.destroy();
    let again = await request(await zipLink());
    for (let tries = 0; again.statusCode === 429 && tries < 50; tries++) {
      await again.body.dump();
      await new Promise((resolve) => setTimeout(resolve, 20));
      again = await request(await zipLink());
    }
    expect(again.statusCode).toBe(200);
    for (const response of [first, again]) response.body.destroy();
  });
});
