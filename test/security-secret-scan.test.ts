import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/auth/authenticate.js';
import {
  behaviours,
  closedPortUrl,
  type FaultInjector,
  startFaultInjector,
} from './support/fault-injector.js';
import { findLeaks } from './support/find-leaks.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

const JWT_SECRET = 'secret-scan-jwt-secret-0123456789abcdef';
const SERVICE_KEY = 'secret-scan-service-key-0123456789';
const PASSWORD = 'Correct-Horse-Battery-9';
const BAD_SITE_TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed';
const ECHO_SITE_TOKEN = 'echo1234echo1234echo1234echo1234';

describe('no secret in any response or log line', () => {
  let gateway: TestGateway;
  let dataDir: string;
  let echo: FaultInjector;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gateway-secret-scan-'));
    // A site that echoes what it received, token included, in an error page.
    echo = await startFaultInjector((recorded) => behaviours.html(500, `<pre>${recorded.body}</pre>`));
    gateway = await startTestGateway(
      {
        provider: { enabled: true, dataDir, seedDemo: true, federateAs: 'local' },
        sites: [
          { id: 'dead', url: await closedPortUrl(), token: BAD_SITE_TOKEN },
          { id: 'echo', url: echo.url, token: ECHO_SITE_TOKEN },
        ],
        auth: {
          jwt: { secret: JWT_SECRET },
          apiKeys: [{ id: 'portal', sha256: sha256Hex(SERVICE_KEY), role: 'service' }],
        },
      },
      { secrets: [SERVICE_KEY, PASSWORD] },
    );
  });
  afterAll(async () => {
    await gateway.close();
    await echo.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('holds through every kind of request, success or failure', async () => {
    const alice = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JWT_SECRET));
    const as = (token: string) => ({ authorization: `Bearer ${token}` });

    await gateway.graphql(
      '{ externalSites { id name info { __typename ... on SiteFailure { code message } } } }',
    );
    await gateway.graphql(
      '{ privateFilesZips(username: "alice") { __typename ... on SiteFailure { message } } }',
      undefined,
      as(alice),
    );
    const zip = await gateway.graphql<{ privateFilesZip: { downloadUrl: string } }>(
      '{ privateFilesZip(site: "local", username: "alice") { ... on PrivateFilesZip { downloadUrl } } }',
      undefined,
      as(SERVICE_KEY),
    );
    const download = await request(zip.body.data?.privateFilesZip.downloadUrl as string);
    await download.body.dump();
    await gateway.graphql(
      '{ privateFilesZip(site: "local", username: "bob") { __typename } }',
      undefined,
      as(alice),
    );
    await gateway.graphql('{ externalSites { id } }', undefined, as(`${SERVICE_KEY}x`));
    await gateway.graphql('{ externalSites { id } }', undefined, as(`${alice.slice(0, -3)}abc`));
    await gateway.graphql(
      `mutation { createProviderUser(input: { username: "dora", password: "${PASSWORD}" }) { username } }`,
    );
    await gateway.graphql(
      `mutation { createProviderUser(input: { username: "dora", password: "${PASSWORD}" }) { username } }`,
    );
    await gateway.graphql('{ providerTokens { masked username } }');
    await gateway.graphql('{ providerUsers { username hasPassword } }');
    await gateway.graphql('{ nonsense }');

    const leaks = findLeaks(
      [BAD_SITE_TOKEN, ECHO_SITE_TOKEN, JWT_SECRET, SERVICE_KEY, PASSWORD, gateway.gateway.demoToken ?? ''],
      gateway.logLines,
    );
    expect(leaks).toEqual([]);
    // The scan is only worth something if it saw the traffic: the echoing site's failure is in the logs.
    expect(gateway.logLines.some((line) => line.includes('"site":"echo"'))).toBe(true);
  });
});
