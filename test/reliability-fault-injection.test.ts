import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Behaviour,
  behaviours,
  closedPortUrl,
  type FaultInjector,
  moodleBodies,
  startFaultInjector,
} from './support/fault-injector.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';

const SITE_INFO = 'core_webservice_get_site_info';
const ZIP = 'block_my_external_privatefiles_get_private_files_zip';
const FIFTY_MB = 50 * 1024 * 1024;

const SITES_QUERY = `{ externalSites {
  id
  info {
    __typename
    ... on SiteInfo { sitename release functions { name } }
    ... on SiteFailure { site code message retryable retryAfterSeconds siteUrl }
  }
} }`;

const ZIPS_QUERY = `{ privateFilesZips(username: "alice") {
  __typename
  ... on PrivateFilesZip { site filename downloadUrl remote { relativepath } }
  ... on SiteFailure { site code message }
} }`;

interface SiteRow {
  id: string;
  info: {
    __typename: string;
    sitename?: string;
    release?: string;
    functions?: { name: string }[];
    code?: string;
    message?: string;
    retryAfterSeconds?: number | null;
  };
}

interface ZipRow {
  __typename: string;
  site: string;
  code?: string;
  message?: string;
  filename?: string;
  remote?: { relativepath: string };
}

/** Answers site info and the zip call each their own way, by the function named in the form. */
function byFunction(injector: FaultInjector, answers: { siteInfo?: Behaviour; zip?: Behaviour }): void {
  injector.setBehaviour((request) =>
    request.form.wsfunction === ZIP
      ? (answers.zip ?? behaviours.moodle(moodleBodies.privateFilesZip))
      : (answers.siteInfo ?? behaviours.moodle(moodleBodies.siteInfo)),
  );
}

describe('every fault of a site maps to its SiteFailure code, and the healthy site answers in full in the same response', () => {
  let healthy: LaunchedProvider;
  let faulty: FaultInjector;
  let refusing: string;
  let gateway: TestGateway;

  beforeAll(async () => {
    healthy = await launchRestProvider({ siteName: 'Healthy provider' });
    faulty = await startFaultInjector();
    refusing = await closedPortUrl();
    gateway = await startTestGateway({
      // Every query asks every site again, and no circuit opens however often the faulty one fails.
      siteInfoCacheTtlMs: 0,
      circuitBreaker: { failureThreshold: 0 },
      retries: { baseDelayMs: 10, maxDelayMs: 20 },
      sites: [
        { id: 'healthy', url: healthy.url, token: healthy.token, priority: 3 },
        {
          id: 'faulty',
          url: faulty.url,
          token: 'faulty-token-0123456789',
          priority: 2,
          timeouts: { siteInfoMs: 400, zipMs: 400 },
        },
        { id: 'refusing', url: refusing, token: 'refusing-token-0123456789', priority: 1 },
      ],
    });
  });
  afterAll(async () => {
    await gateway.close();
    await faulty.close();
    await healthy.close();
  });

  async function sitesNow(): Promise<SiteRow['info']> {
    const { status, body } = await gateway.graphql<{ externalSites: SiteRow[] }>(SITES_QUERY);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const [first, second, third] = body.data?.externalSites ?? [];
    expect(first?.id).toBe('healthy');
    expect(first?.info).toEqual({
      __typename: 'SiteInfo',
      sitename: 'Healthy provider',
      release: '4.5 (Build: 20241007)',
      functions: expect.arrayContaining([{ name: SITE_INFO }, { name: ZIP }]),
    });
    expect(third).toMatchObject({ id: 'refusing', info: { code: 'UNREACHABLE', retryable: true } });
    expect(second?.id).toBe('faulty');
    return second?.info as SiteRow['info'];
  }

  const siteInfoFaults: [string, Behaviour, string, RegExp][] = [
    ['never answers', behaviours.neverAnswer(), 'TIMEOUT', /within 400 ms/],
    [
      'sends its headers, then stalls',
      { kind: 'stall-after-headers', headers: { 'Content-Type': 'application/json' }, body: '{"site' },
      'TIMEOUT',
      /within 400 ms/,
    ],
    ['trickles its answer at 1 KB/s', behaviours.trickleJson(1024), 'TIMEOUT', /within 400 ms/],
    ['resets the connection before any byte', behaviours.hangUp(), 'UNREACHABLE', /reach/],
    [
      'resets the connection in the middle of the answer',
      { kind: 'reset-mid-body', headers: { 'Content-Type': 'application/json' }, body: '{"sitename":' },
      'UNREACHABLE',
      /reach/,
    ],
    ['answers an HTML 500 page', behaviours.html(500), 'BAD_RESPONSE', /HTTP 500 with an HTML page/],
    ['answers something that is not JSON', behaviours.invalidJson(), 'BAD_RESPONSE', /not JSON/],
    ['answers truncated JSON', behaviours.truncatedJson(), 'BAD_RESPONSE', /truncated JSON/],
    ['redirects to itself, forever', behaviours.redirectLoop(), 'BAD_RESPONSE', /HTTP 302 redirecting/],
    ['streams 50 MB of JSON', behaviours.floodJson(FIFTY_MB), 'BAD_RESPONSE', /larger than/],
    ['announces 50 MB of JSON', behaviours.floodJson(FIFTY_MB, true), 'BAD_RESPONSE', /larger than/],
    ['is in maintenance (HTTP 503)', behaviours.maintenance(300), 'MAINTENANCE', /HTTP 503/],
    ['asks us to slow down (HTTP 429)', behaviours.tooManyRequests(120), 'MAINTENANCE', /HTTP 429/],
    ['has web services off (an empty 403)', behaviours.webServicesDisabled(), 'ACCESS_DENIED', /disabled/],
    ['errorcode invalidtoken', behaviours.moodle(moodleBodies.invalidToken), 'INVALID_TOKEN', /invalidtoken/],
    [
      'errorcode sitemaintenance',
      behaviours.moodle(moodleBodies.siteMaintenance),
      'MAINTENANCE',
      /sitemaintenance/,
    ],
    [
      'errorcode accessexception',
      behaviours.moodle(moodleBodies.accessException),
      'ACCESS_DENIED',
      /accessexception/,
    ],
    [
      'errorcode nopermissions',
      behaviours.moodle(moodleBodies.noPermissions),
      'ACCESS_DENIED',
      /nopermissions/,
    ],
    [
      'errorcode requireloginerror',
      behaviours.moodle(moodleBodies.requireLogin),
      'ACCESS_DENIED',
      /requireloginerror/,
    ],
    [
      'errorcode wsaccessusersuspended',
      behaviours.moodle(moodleBodies.userSuspended),
      'ACCESS_DENIED',
      /suspended/,
    ],
    [
      'errorcode invalidrecord on external_functions',
      behaviours.moodle(moodleBodies.functionNotFound),
      'FUNCTION_UNAVAILABLE',
      /does not exist/,
    ],
    [
      'errorcode invalidrecord on another table',
      behaviours.moodle(moodleBodies.courseNotFound),
      'REMOTE_ERROR',
      /table course/,
    ],
    [
      'errorcode invalidparameter',
      behaviours.moodle(moodleBodies.invalidParameter),
      'REMOTE_ERROR',
      /Invalid parameter/,
    ],
    [
      'an errorcode the gateway does not know',
      behaviours.moodle(moodleBodies.cannotAssignRole),
      'REMOTE_ERROR',
      /wsusercannotassign/,
    ],
    [
      'an exception without errorcode',
      behaviours.moodle(moodleBodies.typeError),
      'REMOTE_ERROR',
      /TypeError/,
    ],
  ];

  it.each(siteInfoFaults)('a site that %s → %s', async (_fault, behaviour, code, message) => {
    byFunction(faulty, { siteInfo: behaviour });
    const before = faulty.requests.length;
    const info = await sitesNow();
    expect(info).toMatchObject({ __typename: 'SiteFailure', code });
    expect(info.message).toMatch(message);
    // Only a reset before any byte is asked again (site info is an idempotent read).
    const asked = faulty.requests.length - before;
    expect(asked).toBe(code === 'UNREACHABLE' && behaviour.kind === 'hang-up' ? 3 : 1);
  });

  it('stops reading a 50 MB answer at the size cap instead of taking it all', async () => {
    byFunction(faulty, { siteInfo: behaviours.floodJson(FIFTY_MB) });
    const request = faulty.nextRequest();
    await sitesNow();
    expect(await (await request).closed).toEqual({ complete: false });
  });

  it('keeps the Retry-After of a 429 for the caller', async () => {
    byFunction(faulty, { siteInfo: behaviours.tooManyRequests(120) });
    expect((await sitesNow()).retryAfterSeconds).toBe(120);
  });

  const zipFaults: [string, Behaviour, string][] = [
    [
      'errorcode invalidparameter (an unknown user)',
      behaviours.moodle(moodleBodies.invalidParameter),
      'USER_NOT_FOUND',
    ],
    ['the English empty-area exception', behaviours.moodle(moodleBodies.noFilesEnglish), 'NO_FILES'],
    ['the French empty-area exception', behaviours.moodle(moodleBodies.noFilesFrench), 'NO_FILES'],
    ['errorcode nopermissions', behaviours.moodle(moodleBodies.noPermissions), 'ACCESS_DENIED'],
    ['errorcode invalidtoken', behaviours.moodle(moodleBodies.invalidToken), 'INVALID_TOKEN'],
    ['errorcode sitemaintenance', behaviours.moodle(moodleBodies.siteMaintenance), 'MAINTENANCE'],
    ['never answering', behaviours.neverAnswer(), 'TIMEOUT'],
    ['a reset before any byte (never retried)', behaviours.hangUp(), 'UNREACHABLE'],
    ['50 MB of JSON', behaviours.floodJson(FIFTY_MB), 'BAD_RESPONSE'],
    ['a descriptor of the wrong shape', behaviours.moodle('{"contextid":"twelve"}'), 'BAD_RESPONSE'],
  ];

  it.each(zipFaults)('the zip call answering %s → %s', async (_fault, behaviour, code) => {
    byFunction(faulty, { zip: behaviour });
    const before = faulty.requests.filter((request) => request.form.wsfunction === ZIP).length;
    const { body } = await gateway.graphql<{ privateFilesZips: ZipRow[] }>(ZIPS_QUERY);
    expect(body.errors).toBeUndefined();
    const [first, second, third] = body.data?.privateFilesZips ?? [];
    expect(first).toMatchObject({
      __typename: 'PrivateFilesZip',
      site: 'healthy',
      filename: expect.stringMatching(/^my_privatefiles_Healthy_provider_.*\.zip$/),
      remote: { relativepath: expect.stringMatching(/myprivatefiles\.zip$/) },
    });
    expect(second).toMatchObject({ __typename: 'SiteFailure', site: 'faulty', code });
    expect(third).toMatchObject({ __typename: 'SiteFailure', site: 'refusing', code: 'UNREACHABLE' });
    const zipCalls = faulty.requests.filter((request) => request.form.wsfunction === ZIP).length;
    expect(zipCalls - before).toBe(1);
  });
});

describe('an answer waits for the slowest healthy site or the longest faulty deadline, whichever is later — never the sum', () => {
  // Three healthy but slow sites, three faulty ones with their own deadlines, one refusing connections.
  const slow = [
    { id: 'slow-300', ms: 300 },
    { id: 'slow-500', ms: 500 },
    { id: 'slow-700', ms: 700 },
  ] as const;
  const faults = [
    { id: 'hanging', deadlineMs: 900, fault: behaviours.neverAnswer() },
    {
      id: 'stalling',
      deadlineMs: 600,
      fault: { kind: 'stall-after-headers', headers: { 'Content-Type': 'application/json' } } as Behaviour,
    },
    { id: 'trickling', deadlineMs: 800, fault: behaviours.trickleJson(1024) },
  ] as const;
  const injectors = new Map<string, FaultInjector>();
  let gateway: TestGateway;

  beforeAll(async () => {
    for (const { id } of [...slow, ...faults]) injectors.set(id, await startFaultInjector());
    const at = (id: string) => injectors.get(id) as FaultInjector;
    gateway = await startTestGateway({
      siteInfoCacheTtlMs: 0,
      circuitBreaker: { failureThreshold: 0 },
      sites: [
        ...slow.map(({ id }, index) => ({
          id,
          url: at(id).url,
          token: `token-of-${id}-0123456789`,
          priority: 10 - index,
          timeouts: { siteInfoMs: 5_000, zipMs: 5_000 },
        })),
        ...faults.map(({ id, deadlineMs }) => ({
          id,
          url: at(id).url,
          token: `token-of-${id}-0123456789`,
          timeouts: { siteInfoMs: deadlineMs, zipMs: deadlineMs },
        })),
        { id: 'refusing', url: await closedPortUrl(), token: 'token-of-refusing-0123456789', priority: -1 },
      ],
    });
  });
  afterAll(async () => {
    await gateway.close();
    await Promise.all([...injectors.values()].map((injector) => injector.close()));
  });

  function expectCodes(rows: readonly { id?: string; site?: string; code?: string; __typename?: string }[]) {
    const byId = new Map(rows.map((row) => [row.id ?? row.site, row]));
    for (const { id } of slow) expect(byId.get(id)?.__typename, id).toMatch(/^(SiteInfo|PrivateFilesZip)$/);
    for (const { id } of faults) expect(byId.get(id)?.code, id).toBe('TIMEOUT');
    expect(byId.get('refusing')?.code).toBe('UNREACHABLE');
  }

  async function timedSites() {
    const started = performance.now();
    const { body } = await gateway.graphql<{ externalSites: SiteRow[] }>(SITES_QUERY);
    const elapsed = performance.now() - started;
    expectCodes((body.data?.externalSites ?? []).map((row) => ({ id: row.id, ...row.info })));
    return elapsed;
  }

  it('site info: the longest faulty deadline (900 ms) is later than the slowest healthy site (700 ms)', async () => {
    for (const { id, ms } of slow)
      byFunction(injectors.get(id) as FaultInjector, {
        siteInfo: behaviours.slowMoodle(moodleBodies.siteInfo, ms),
      });
    for (const { id, fault } of faults) byFunction(injectors.get(id) as FaultInjector, { siteInfo: fault });
    const elapsed = await timedSites();
    expect(elapsed).toBeGreaterThanOrEqual(850);
    // The sum of the sites' times is 3.8 s; asked one after another they could not be this quick.
    expect(elapsed).toBeLessThan(2_000);
  });

  it('site info: the slowest healthy site (1.2 s) is later than every faulty deadline', async () => {
    byFunction(injectors.get('slow-700') as FaultInjector, {
      siteInfo: behaviours.slowMoodle(moodleBodies.siteInfo, 1_200),
    });
    const elapsed = await timedSites();
    expect(elapsed).toBeGreaterThanOrEqual(1_150);
    // The sum is 4.3 s.
    expect(elapsed).toBeLessThan(2_300);
  });

  it('zips: every site zips at once, so the answer waits for the longest of them', async () => {
    for (const { id, ms } of slow) {
      byFunction(injectors.get(id) as FaultInjector, {
        zip: behaviours.slowMoodle(moodleBodies.privateFilesZip, ms),
      });
    }
    for (const { id, fault } of faults) byFunction(injectors.get(id) as FaultInjector, { zip: fault });
    const started = performance.now();
    const { body } = await gateway.graphql<{ privateFilesZips: ZipRow[] }>(ZIPS_QUERY);
    const elapsed = performance.now() - started;
    expectCodes(body.data?.privateFilesZips ?? []);
    expect(elapsed).toBeGreaterThanOrEqual(850);
    expect(elapsed).toBeLessThan(2_000);
  });
});

describe('a deadline is exact', () => {
  it('never cuts a site that answers within its deadline, however the client’s own timers tick', async () => {
    const site = await startFaultInjector(behaviours.slowMoodle(moodleBodies.siteInfo, 650));
    const gateway = await startTestGateway({
      siteInfoCacheTtlMs: 0,
      sites: [{ id: 'slow', url: site.url, token: 'slow-token-0123456789', timeouts: { siteInfoMs: 900 } }],
    });
    try {
      const kinds: string[] = [];
      for (let n = 0; n < 4; n++) {
        const { body } = await gateway.graphql<{ externalSites: SiteRow[] }>(SITES_QUERY);
        kinds.push(body.data?.externalSites[0]?.info.__typename ?? '?');
      }
      expect(kinds).toEqual(['SiteInfo', 'SiteInfo', 'SiteInfo', 'SiteInfo']);
    } finally {
      await gateway.close();
      await site.close();
    }
  });
});
