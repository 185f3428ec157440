import { setTimeout as sleep } from 'node:timers/promises';
import { type Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CircuitBreakingSite, withCircuitBreaker } from '../src/gateway/circuit-breaker.js';
import { createAgent } from '../src/moodle/agent.js';
import type { Result } from '../src/moodle/failures.js';
import { createRemoteSite } from '../src/moodle/remote-site.js';
import {
  type Behaviour,
  behaviours,
  type FaultInjector,
  moodleBodies,
  startFaultInjector,
} from './support/fault-injector.js';
import { startTestGateway, TEST_ADMIN_KEY, type TestGateway } from './support/gateway-harness.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';

const OPEN_MS = 400;

const codeOf = (result: Result<unknown>) => (result.ok ? 'OK' : result.failure.code);

describe('a circuit breaker in front of a real site', () => {
  let moodle: FaultInjector;
  let agent: Agent;
  let site: CircuitBreakingSite;
  let changes: string[];

  beforeAll(async () => {
    moodle = await startFaultInjector();
    agent = createAgent({ connectTimeoutMs: 2_000 });
  });
  afterAll(async () => {
    await moodle.close();
    await agent.destroy();
  });

  /** A fresh breaker (threshold 3) over the injector, answering site info with `answer`. */
  function freshSite(answer: Behaviour): CircuitBreakingSite {
    moodle.setBehaviour(answer);
    changes = [];
    site = withCircuitBreaker(
      createRemoteSite({
        site: { id: 'peer', url: moodle.url, token: 'breaker-token-0123456789' },
        dispatcher: agent,
        timeouts: { siteInfoMs: 300, zipMs: 300 },
        siteInfoRetry: { retries: 0 },
      }),
      {
        failureThreshold: 3,
        openMs: OPEN_MS,
        onStateChange: ({ from, to }) => changes.push(`${from}→${to}`),
      },
    );
    return site;
  }

  it('opens after three unwell failures in a row, then answers CIRCUIT_OPEN at once without asking the site', async () => {
    freshSite(behaviours.html(500));
    const codes = [];
    for (let n = 0; n < 3; n++) codes.push(codeOf(await site.getSiteInfo()));
    expect(codes).toEqual(['BAD_RESPONSE', 'BAD_RESPONSE', 'BAD_RESPONSE']);
    expect(site.circuit()).toMatchObject({
      state: 'OPEN',
      consecutiveFailures: 3,
      lastFailure: 'BAD_RESPONSE',
    });

    const asked = moodle.requests.length;
    const started = performance.now();
    const refused = await site.createPrivateFilesZip('alice');
    expect(performance.now() - started).toBeLessThan(50);
    expect(refused).toMatchObject({ ok: false, failure: { code: 'CIRCUIT_OPEN', retryable: true } });
    if (!refused.ok) {
      expect(refused.failure.retryAfterSeconds).toBe(1);
      expect(refused.failure.message).toMatch(/failed 3 times in a row \(last: BAD_RESPONSE\)/);
    }
    expect(codeOf(await site.openDownload('/1/user/draft/2/myprivatefiles.zip'))).toBe('CIRCUIT_OPEN');
    expect(moodle.requests.length).toBe(asked);
    expect(changes).toEqual(['CLOSED→OPEN']);
  });

  it('counts timeouts, unreachable sites and maintenance, and any answer resets the count', async () => {
    freshSite(behaviours.neverAnswer());
    expect(codeOf(await site.getSiteInfo())).toBe('TIMEOUT');
    moodle.setBehaviour(behaviours.maintenance(60));
    expect(codeOf(await site.getSiteInfo())).toBe('MAINTENANCE');
    expect(site.circuit()).toMatchObject({ state: 'CLOSED', consecutiveFailures: 2 });
    moodle.setBehaviour(behaviours.moodle(moodleBodies.siteInfo));
    expect(codeOf(await site.getSiteInfo())).toBe('OK');
    expect(site.circuit()).toMatchObject({ state: 'CLOSED', consecutiveFailures: 0, lastFailure: null });
  });

  it.each<[string, Behaviour, string]>([
    ['USER_NOT_FOUND', behaviours.moodle(moodleBodies.invalidParameter), 'USER_NOT_FOUND'],
    ['NO_FILES', behaviours.moodle(moodleBodies.noFilesEnglish), 'NO_FILES'],
    ['INVALID_TOKEN', behaviours.moodle(moodleBodies.invalidToken), 'INVALID_TOKEN'],
    ['ACCESS_DENIED', behaviours.moodle(moodleBodies.noPermissions), 'ACCESS_DENIED'],
    ['REMOTE_ERROR', behaviours.moodle(moodleBodies.typeError), 'REMOTE_ERROR'],
  ])('never opens on answers that show the site is up: %s', async (_name, answer, code) => {
    freshSite(answer);
    for (let n = 0; n < 5; n++) expect(codeOf(await site.createPrivateFilesZip('alice'))).toBe(code);
    expect(site.circuit()).toMatchObject({ state: 'CLOSED', consecutiveFailures: 0 });
  });

  it('lets one probe through after the cool-down, refuses the others meanwhile, and closes on its success', async () => {
    freshSite(behaviours.html(502));
    for (let n = 0; n < 3; n++) await site.getSiteInfo();
    await sleep(OPEN_MS + 50);
    expect(site.circuit().state).toBe('HALF_OPEN');

    moodle.setBehaviour(behaviours.slowMoodle(moodleBodies.siteInfo, 150));
    const asked = moodle.requests.length;
    const [probe, ...others] = await Promise.all([
      site.getSiteInfo(),
      site.getSiteInfo(),
      site.getSiteInfo(),
      site.createPrivateFilesZip('alice'),
    ]);
    expect(codeOf(probe as Result<unknown>)).toBe('OK');
    expect(others.map(codeOf)).toEqual(['CIRCUIT_OPEN', 'CIRCUIT_OPEN', 'CIRCUIT_OPEN']);
    expect(moodle.requests.length - asked).toBe(1);
    expect(site.circuit()).toMatchObject({ state: 'CLOSED', consecutiveFailures: 0 });
    expect(changes).toEqual(['CLOSED→OPEN', 'HALF_OPEN→CLOSED']);
  });

  it('opens again for a whole cool-down when the probe fails', async () => {
    freshSite(behaviours.hangUp());
    for (let n = 0; n < 3; n++) expect(codeOf(await site.getSiteInfo())).toBe('UNREACHABLE');
    await sleep(OPEN_MS + 50);
    expect(codeOf(await site.getSiteInfo())).toBe('UNREACHABLE');
    expect(site.circuit()).toMatchObject({ state: 'OPEN', consecutiveFailures: 4 });
    expect(site.circuit().probeAt?.getTime()).toBeGreaterThan(Date.now() + OPEN_MS - 100);
    expect(changes).toEqual(['CLOSED→OPEN', 'HALF_OPEN→OPEN']);
  });

  it('frees the probe when its caller goes away, so the next call probes', async () => {
    freshSite(behaviours.html(500));
    for (let n = 0; n < 3; n++) await site.getSiteInfo();
    await sleep(OPEN_MS + 50);
    moodle.setBehaviour(behaviours.neverAnswer());
    const controller = new AbortController();
    const probe = site.getSiteInfo({ signal: controller.signal });
    await sleep(30);
    controller.abort(new Error('caller left'));
    await expect(probe).rejects.toThrow('caller left');
    moodle.setBehaviour(behaviours.moodle(moodleBodies.siteInfo));
    expect(codeOf(await site.getSiteInfo())).toBe('OK');
    expect(site.circuit().state).toBe('CLOSED');
  });
});

describe('ExternalSite.status through the gateway', () => {
  let healthy: LaunchedProvider;
  let flaky: FaultInjector;
  let gateway: TestGateway;

  const QUERY = `{ externalSites {
    id status
    info { __typename ... on SiteInfo { sitename } ... on SiteFailure { code retryAfterSeconds } }
  } }`;
  type Row = { id: string; status: string; info: { __typename: string; code?: string; sitename?: string } };
  const ask = async () =>
    (await gateway.graphql<{ externalSites: Row[] }>(QUERY)).body.data?.externalSites ?? [];

  beforeAll(async () => {
    healthy = await launchRestProvider({ siteName: 'Always up' });
    flaky = await startFaultInjector(behaviours.html(500));
    gateway = await startTestGateway({
      siteInfoCacheTtlMs: 0,
      retries: { siteInfo: 0 },
      circuitBreaker: { failureThreshold: 2, openMs: OPEN_MS },
      sites: [
        { id: 'healthy', url: healthy.url, token: healthy.token, priority: 1 },
        { id: 'flaky', url: flaky.url, token: 'flaky-token-0123456789' },
      ],
    });
  });
  afterAll(async () => {
    await gateway.close();
    await flaky.close();
    await healthy.close();
  });

  it('goes HEALTHY → DEGRADED → CIRCUIT_OPEN → HALF_OPEN → HEALTHY while the healthy site answers throughout', async () => {
    const statuses: string[] = [];
    const flakyRow = (rows: Row[]) => rows.find((row) => row.id === 'flaky');

    let rows = await ask();
    statuses.push(flakyRow(rows)?.status ?? '?'); // read before this request's own call
    rows = await ask();
    statuses.push(flakyRow(rows)?.status ?? '?');
    expect(flakyRow(rows)?.info.code).toBe('BAD_RESPONSE');

    const asked = flaky.requests.length;
    rows = await ask();
    statuses.push(flakyRow(rows)?.status ?? '?');
    expect(flakyRow(rows)?.info).toMatchObject({ __typename: 'SiteFailure', code: 'CIRCUIT_OPEN' });
    expect(flaky.requests.length).toBe(asked);
    expect(rows.find((row) => row.id === 'healthy')).toMatchObject({
      status: 'HEALTHY',
      info: { __typename: 'SiteInfo', sitename: 'Always up' },
    });

    await sleep(OPEN_MS + 50);
    flaky.setBehaviour(behaviours.moodle(moodleBodies.siteInfo));
    rows = await ask();
    statuses.push(flakyRow(rows)?.status ?? '?');
    expect(flakyRow(rows)?.info.__typename).toBe('SiteInfo');
    rows = await ask();
    statuses.push(flakyRow(rows)?.status ?? '?');

    expect(statuses).toEqual(['HEALTHY', 'DEGRADED', 'CIRCUIT_OPEN', 'HALF_OPEN', 'HEALTHY']);
    expect(gateway.logLines.some((line) => line.includes('circuit open: flaky'))).toBe(true);
  });
});

describe('a half-open site whose probe is under way', () => {
  it('answers the other requests CIRCUIT_OPEN at once instead of making them wait for the probe', async () => {
    const hanging = await startFaultInjector(behaviours.neverAnswer());
    const gateway = await startTestGateway({
      retries: { siteInfo: 0 },
      circuitBreaker: { failureThreshold: 1, openMs: 300 },
      sites: [{ id: 'hanging', url: hanging.url, token: 'hanging-token-0123456789', timeoutMs: 800 }],
    });
    const infoOf = async () => {
      const { body } = await gateway.graphql<{ externalSites: { info: { code?: string } }[] }>(
        '{ externalSites { info { ... on SiteFailure { code } } } }',
      );
      return body.data?.externalSites[0]?.info.code;
    };
    try {
      expect(await infoOf()).toBe('TIMEOUT');
      await sleep(350);
      const probe = infoOf();
      await sleep(100);
      const started = performance.now();
      expect(await infoOf()).toBe('CIRCUIT_OPEN');
      expect(performance.now() - started).toBeLessThan(400);
      expect(await probe).toBe('TIMEOUT');
      expect(hanging.requests).toHaveLength(2);
    } finally {
      await gateway.close();
      await hanging.close();
    }
  });
});

describe('a caller that goes away', () => {
  it('cancels the zip call upstream, and its cancellation is not counted against the site', async () => {
    const silent = await startFaultInjector(behaviours.moodle(moodleBodies.siteInfo));
    const gateway = await startTestGateway({
      circuitBreaker: { failureThreshold: 1, openMs: 60_000 },
      sites: [
        { id: 'silent', url: silent.url, token: 'silent-token-0123456789', timeouts: { zipMs: 5_000 } },
      ],
    });
    try {
      // Site info answers (and is cached); the zip call never does.
      await gateway.graphql('{ externalSites { info { __typename } } }');
      silent.setBehaviour(behaviours.neverAnswer());
      const zipCall = silent.nextRequest();
      const leaving = new AbortController();
      const abandoned = request(`${gateway.url}/graphql`, {
        method: 'POST',
        signal: leaving.signal,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_KEY}` },
        body: JSON.stringify({
          query: '{ privateFilesZip(site: "silent", username: "alice") { __typename } }',
        }),
      });
      const upstream = await zipCall;
      leaving.abort();
      await expect(abandoned).rejects.toThrow();
      expect(await upstream.closed).toEqual({ complete: false });
      await sleep(100);
      const { body } = await gateway.graphql<{ externalSites: { status: string }[] }>(
        '{ externalSites { status } }',
      );
      expect(body.data?.externalSites[0]?.status).toBe('HEALTHY');
      expect(gateway.logLines.some((line) => line.includes('moodle call failed'))).toBe(false);
    } finally {
      await gateway.close();
      await silent.close();
    }
  });
});

describe('a download from a site whose circuit is open', () => {
  it('is answered 503 with a Retry-After at once, without asking the site', async () => {
    const moodle = await startFaultInjector();
    const gateway = await startTestGateway({
      circuitBreaker: { failureThreshold: 1, openMs: 60_000 },
      sites: [{ id: 'peer', url: moodle.url, token: 'peer-token-0123456789' }],
    });
    try {
      moodle.setBehaviour((received) => {
        if (!received.path.endsWith('/server.php')) return behaviours.html(500);
        return received.form.wsfunction === 'core_webservice_get_site_info'
          ? behaviours.moodle(moodleBodies.siteInfo)
          : behaviours.moodle(moodleBodies.privateFilesZip);
      });
      const { body } = await gateway.graphql<{ privateFilesZip: { downloadUrl: string } }>(
        '{ privateFilesZip(site: "peer", username: "alice") { ... on PrivateFilesZip { downloadUrl } } }',
      );
      const link = body.data?.privateFilesZip.downloadUrl ?? '';
      const broken = await request(link, { headers: { accept: 'application/json' } });
      expect(broken.statusCode).toBe(502);
      await broken.body.dump();

      const asked = moodle.requests.length;
      const refused = await request(link, { headers: { accept: 'application/json' } });
      expect(refused.statusCode).toBe(503);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(((await refused.body.json()) as { error: { code: string } }).error.code).toBe('CIRCUIT_OPEN');
      expect(moodle.requests.length).toBe(asked);
    } finally {
      await gateway.close();
      await moodle.close();
    }
  });
});
