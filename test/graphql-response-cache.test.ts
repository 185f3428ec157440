import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../src/config/config-schema.js';
import {
  behaviours,
  type FaultInjector,
  moodleBodies,
  type RecordedRequest,
  startFaultInjector,
} from './support/fault-injector.js';
import { startTestGateway, TEST_ADMIN_KEY, type TestGateway } from './support/gateway-harness.js';
import { parsePrometheus, sampleSum } from './support/prometheus-text.js';

const TOKEN = 'response-cache-token-0123456789ab';
const SITES = `{ externalSites { id name url status info { __typename ... on SiteInfo { sitename release } } } }`;
const ZIP = `query { privateFilesZip(site: "peer", username: "alice") { __typename
  ... on PrivateFilesZip { filename } ... on SiteFailure { code } } }`;

/** A Moodle whose site name can be changed, and whose zip function fails as a broken site does (HTML 500). */
function moodleNamed(injector: FaultInjector, name: () => string): void {
  injector.setBehaviour((request: RecordedRequest) =>
    request.form.wsfunction === 'core_webservice_get_site_info'
      ? behaviours.moodle(moodleBodies.siteInfo.replace('Peer Moodle 4.5', name()))
      : behaviours.html(500),
  );
}

const siteInfoCalls = (injector: FaultInjector) =>
  injector.requests.filter((r) => r.form.wsfunction === 'core_webservice_get_site_info').length;

async function rawQuery(gateway: TestGateway, query: string, headers: Record<string, string> = {}) {
  const response = await request(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return {
    status: response.statusCode,
    type: response.headers['content-type'],
    text: await response.body.text(),
  };
}

async function hits(gateway: TestGateway, outcome: 'hit' | 'miss' = 'hit'): Promise<number> {
  const samples = parsePrometheus(await (await request(`${gateway.url}/metrics`)).body.text());
  return sampleSum(samples, 'moodle_gateway_graphql_response_cache_lookups_total', { outcome });
}

describe('the GraphQL response cache', () => {
  let moodle: FaultInjector;
  let gateway: TestGateway | undefined;
  let name = 'Faculty of Arts';

  beforeAll(async () => {
    moodle = await startFaultInjector();
  });
  afterAll(async () => {
    await moodle.close();
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  async function start(config: GatewayConfigInput = {}): Promise<TestGateway> {
    name = 'Faculty of Arts';
    moodleNamed(moodle, () => name);
    gateway = await startTestGateway({
      sites: [{ id: 'peer', url: moodle.url, token: TOKEN }],
      ...config,
    });
    return gateway;
  }

  it('answers the same question again, byte for byte, without executing it, until a site info it holds expires', async () => {
    const g = await start({ siteInfoCacheTtlMs: 1_500 });
    const admin = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
    const first = await rawQuery(g, SITES, admin);
    expect(first.status).toBe(200);
    const again = [];
    for (let n = 0; n < 5; n++) again.push(await rawQuery(g, SITES, admin));
    // The first answer waited for the site (its fields came in as they resolved); the others are one text.
    expect(JSON.parse(again[0]?.text ?? '')).toEqual(JSON.parse(first.text));
    for (const answer of again) {
      expect(answer.text).toBe(again[0]?.text);
      expect(answer.type).toBe(first.type);
    }
    // The first answer asked the site (its info was not cached yet), the second filled the response
    // cache from the site-info cache, the others came from it.
    expect(await hits(g)).toBe(4);
    expect(siteInfoCalls(moodle)).toBeGreaterThanOrEqual(1);
    const asked = siteInfoCalls(moodle);

    name = 'Faculty of Fine Arts';
    expect(JSON.parse((await rawQuery(g, SITES, admin)).text).data.externalSites[0].name).toBe(
      'Faculty of Arts',
    );
    await sleep(1_600);
    const renamed = JSON.parse((await rawQuery(g, SITES, admin)).text);
    expect(renamed.data.externalSites[0]).toMatchObject({
      name: 'Faculty of Fine Arts',
      info: { sitename: 'Faculty of Fine Arts' },
    });
    expect(siteInfoCalls(moodle)).toBe(asked + 1);
  });

  it('shows a change of the registry or of a circuit in the very next answer', async () => {
    const g = await start({ circuitBreaker: { failureThreshold: 2, openMs: 600 } });
    const registered = await g.graphql(
      `mutation { registerSite(input: { id: "extra", url: "${moodle.url}", token: "${TOKEN}", name: "Extra" }) {
        __typename } }`,
    );
    expect(registered.body.errors).toBeUndefined();
    const statusOf = async () => {
      const { body } = await g.graphql<{ externalSites: { id: string; name: string; status: string }[] }>(
        SITES,
      );
      return Object.fromEntries((body.data?.externalSites ?? []).map((s) => [s.id, `${s.name} ${s.status}`]));
    };
    await statusOf();
    await statusOf();
    const before = await hits(g);
    expect(await statusOf()).toEqual({ peer: 'Faculty of Arts HEALTHY', extra: 'Extra HEALTHY' });
    expect(await hits(g)).toBe(before + 1);

    await g.graphql(`mutation { updateSite(input: { id: "extra", name: "Renamed" }) { __typename } }`);
    expect(await statusOf()).toEqual({ peer: 'Faculty of Arts HEALTHY', extra: 'Renamed HEALTHY' });

    // The zip function answers HTML 500: the site is unwell, its circuit counts, then opens.
    expect((await g.graphql(ZIP)).body.data).toEqual({
      privateFilesZip: { __typename: 'SiteFailure', code: 'BAD_RESPONSE' },
    });
    expect((await statusOf()).peer).toBe('Faculty of Arts DEGRADED');
    await g.graphql(ZIP);
    expect((await statusOf()).peer).toBe('Faculty of Arts CIRCUIT_OPEN');
    expect((await statusOf()).peer).toBe('Faculty of Arts CIRCUIT_OPEN');
    // Half-open by the clock alone: nothing else changed, the kept answer ends at the probe time.
    await sleep(700);
    expect((await statusOf()).peer).toBe('Faculty of Arts HALF_OPEN');

    await g.graphql(`mutation { removeSite(id: "extra") { __typename } }`);
    expect(Object.keys(await statusOf())).toEqual(['peer']);
  });

  it('never gives one caller what was computed for another', async () => {
    const g = await start();
    await g.graphql(
      `mutation { registerSite(input: { id: "hidden", url: "${moodle.url}", token: "${TOKEN}" }) { __typename } }`,
    );
    await g.graphql(`mutation { updateSite(input: { id: "hidden", visible: false }) { __typename } }`);
    const LIST = '{ externalSites { id } }';
    const ids = (text: string) => (JSON.parse(text).data.externalSites as { id: string }[]).map((s) => s.id);
    for (let n = 0; n < 3; n++) {
      const admin = await rawQuery(g, LIST, { authorization: `Bearer ${TEST_ADMIN_KEY}` });
      const anonymous = await rawQuery(g, LIST);
      expect(ids(admin.text).sort()).toEqual(['hidden', 'peer']);
      expect(ids(anonymous.text)).toEqual(['peer']);
    }
    expect(await hits(g)).toBeGreaterThanOrEqual(2);

    // Details are not for anonymous callers: the refusal (an error) is never kept, nor served to the admin.
    const refused = await rawQuery(g, SITES);
    expect(JSON.parse(refused.text).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const hitsBefore = await hits(g);
    expect(JSON.parse((await rawQuery(g, SITES)).text).errors).toBeDefined();
    expect(await hits(g)).toBe(hitsBefore);
  });

  it('never keeps an answer made by a call, such as a zip', async () => {
    const g = await start({ circuitBreaker: { failureThreshold: 0 } });
    const zipCalls = () =>
      moodle.requests.filter(
        (r) => r.form.wsfunction === 'block_my_external_privatefiles_get_private_files_zip',
      ).length;
    const before = zipCalls();
    for (let n = 0; n < 3; n++) await g.graphql(ZIP);
    expect(zipCalls()).toBe(before + 3);
    expect(await hits(g)).toBe(0);
  });

  it('is off with maxEntries 0: every answer is computed', async () => {
    const g = await start({ graphql: { responseCache: { maxEntries: 0 } } });
    for (let n = 0; n < 3; n++) expect((await g.graphql(SITES)).status).toBe(200);
    expect(await hits(g)).toBe(0);
    expect(await hits(g, 'miss')).toBe(0);
  });
});
