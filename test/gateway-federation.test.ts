import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  behaviours,
  closedPortUrl,
  type FaultInjector,
  moodleBodies,
  startFaultInjector,
} from './support/fault-injector.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';

const SITES_QUERY = `{
  externalSites {
    id name url supportsPrivateFiles
    info {
      __typename
      ... on SiteInfo { sitename release version functions { name version } }
      ... on SiteFailure { site code message retryable siteUrl }
    }
  }
}`;

interface SiteRow {
  id: string;
  name: string;
  url: string;
  supportsPrivateFiles: boolean | null;
  info: { __typename: string; sitename?: string; code?: string; message?: string; siteUrl?: string };
}

describe('externalSites over three real providers: healthy, wrong token, not listening', () => {
  let healthy: LaunchedProvider;
  let gateway: TestGateway;
  let deadUrl: string;

  beforeAll(async () => {
    healthy = await launchRestProvider({ siteName: 'Faculty of Sciences' });
    deadUrl = await closedPortUrl();
    gateway = await startTestGateway({
      sites: [
        { id: 'sciences', url: healthy.url, token: healthy.token, priority: 3 },
        { id: 'wrong-token', url: healthy.url, token: '0123456789abcdef0123456789abcdef', priority: 2 },
        { id: 'gone', url: deadUrl, token: 'whatever-token-value', priority: 1, name: 'Old Moodle' },
      ],
    });
  });
  afterAll(async () => {
    await gateway.close();
    await healthy.close();
  });

  it('answers every site, each failure isolated to its own site', async () => {
    const { status, body } = await gateway.graphql<{ externalSites: SiteRow[] }>(SITES_QUERY);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const [sciences, wrongToken, gone] = body.data?.externalSites ?? [];
    expect(sciences).toMatchObject({
      id: 'sciences',
      name: 'Faculty of Sciences',
      supportsPrivateFiles: true,
      info: { __typename: 'SiteInfo', sitename: 'Faculty of Sciences', release: '4.5 (Build: 20241007)' },
    });
    expect(wrongToken).toMatchObject({
      id: 'wrong-token',
      supportsPrivateFiles: null,
      info: { __typename: 'SiteFailure', code: 'INVALID_TOKEN', retryable: false, siteUrl: healthy.url },
    });
    expect(gone).toMatchObject({
      id: 'gone',
      name: 'Old Moodle',
      info: { __typename: 'SiteFailure', code: 'UNREACHABLE', retryable: true, siteUrl: deadUrl },
    });
  });

  it('never shows a site token in any answer', async () => {
    const { body } = await gateway.graphql(SITES_QUERY);
    expect(JSON.stringify(body)).not.toContain(healthy.token);
  });

  it('answers privateFilesZips with one result per enabled site, in priority order', async () => {
    const { body } = await gateway.graphql<{
      privateFilesZips: { __typename: string; site: string; code?: string }[];
    }>(
      `{ privateFilesZips(username: "alice") {
          __typename
          ... on PrivateFilesZip { site filename }
          ... on SiteFailure { site code }
      } }`,
    );
    expect(body.data?.privateFilesZips).toEqual([
      expect.objectContaining({ __typename: 'PrivateFilesZip', site: 'sciences' }),
      { __typename: 'SiteFailure', site: 'wrong-token', code: 'INVALID_TOKEN' },
      { __typename: 'SiteFailure', site: 'gone', code: 'UNREACHABLE' },
    ]);
  });

  it('refuses an unknown site or a bad username as the caller’s mistake, not as site data', async () => {
    const unknown = await gateway.graphql(
      `{ privateFilesZip(site: "nope", username: "alice") { __typename } }`,
    );
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const empty = await gateway.graphql(`{ privateFilesZip(site: "sciences", username: "") { __typename } }`);
    expect(empty.body.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'username' },
    });
    const control = await gateway.graphql(
      `query($u: String!) { privateFilesZip(site: "sciences", username: $u) { __typename } }`,
      {
        u: 'ali\u0000ce',
      },
    );
    expect(control.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('sends usernames exactly as given: ALICE and " alice " are other users', async () => {
    for (const username of ['ALICE', ' alice ']) {
      const { body } = await gateway.graphql<{ privateFilesZip: { code: string } }>(
        `query($u: String!) { privateFilesZip(site: "sciences", username: $u) { ... on SiteFailure { code } } }`,
        { u: username },
      );
      expect(body.data?.privateFilesZip.code).toBe('USER_NOT_FOUND');
    }
  });
});

describe('a site that never answers', () => {
  let hanging: FaultInjector;
  let healthy: LaunchedProvider;
  let gateway: TestGateway;

  beforeAll(async () => {
    hanging = await startFaultInjector(behaviours.neverAnswer());
    healthy = await launchRestProvider();
    gateway = await startTestGateway({
      sites: [
        { id: 'healthy', url: healthy.url, token: healthy.token, priority: 1 },
        {
          id: 'hanging',
          url: hanging.url,
          token: 'token-of-the-hanging-site',
          timeoutMs: 300,
          timeouts: { zipMs: 300 },
        },
      ],
    });
  });
  afterAll(async () => {
    await gateway.close();
    await hanging.close();
    await healthy.close();
  });

  it('becomes TIMEOUT within its deadline while the healthy site answers in full', async () => {
    const started = performance.now();
    const { body } = await gateway.graphql<{ externalSites: SiteRow[] }>(SITES_QUERY);
    const elapsed = performance.now() - started;
    const [first, second] = body.data?.externalSites ?? [];
    expect(first?.info).toMatchObject({
      __typename: 'SiteInfo',
      functions: expect.arrayContaining([expect.any(Object)]),
    });
    expect(second?.info).toMatchObject({ __typename: 'SiteFailure', code: 'TIMEOUT', retryable: true });
    // A 300 ms deadline against a site that would hang forever: well under the default 10 s.
    expect(elapsed).toBeLessThan(3000);
  });

  it('times out the zip call too, and privateFilesZips still carries the healthy site’s link', async () => {
    const started = performance.now();
    const { body } = await gateway.graphql<{ privateFilesZips: { __typename: string; code?: string }[] }>(
      `{ privateFilesZips(username: "alice") { __typename ... on SiteFailure { code } } }`,
    );
    expect(performance.now() - started).toBeLessThan(4000);
    expect(body.data?.privateFilesZips).toEqual([
      { __typename: 'PrivateFilesZip' },
      { __typename: 'SiteFailure', code: 'TIMEOUT' },
    ]);
  });
});

describe('each Moodle answer reaches GraphQL as its SiteFailure code', () => {
  let moodle: FaultInjector;
  let gateway: TestGateway;
  const answers: Record<string, ReturnType<typeof behaviours.moodle>> = {};

  beforeAll(async () => {
    moodle = await startFaultInjector((request) => {
      const fn = request.form.wsfunction ?? '';
      return answers[fn] ?? behaviours.moodle(moodleBodies.functionNotFound);
    });
    // No site-info cache, so every query sees the answer set for it.
    gateway = await startTestGateway({
      siteInfoCacheTtlMs: 0,
      sites: [{ id: 'peer', url: moodle.url, token: 'peer-token-0123456789', timeoutMs: 2000 }],
    });
  });
  afterAll(async () => {
    await gateway.close();
    await moodle.close();
  });

  const siteInfoCases: [string, ReturnType<typeof behaviours.moodle>, string][] = [
    ['invalidtoken', behaviours.moodle(moodleBodies.invalidToken), 'INVALID_TOKEN'],
    ['sitemaintenance', behaviours.moodle(moodleBodies.siteMaintenance), 'MAINTENANCE'],
    ['HTTP 503 maintenance page', behaviours.maintenance(300), 'MAINTENANCE'],
    ['accessexception', behaviours.moodle(moodleBodies.accessException), 'ACCESS_DENIED'],
    ['wsaccessusersuspended', behaviours.moodle(moodleBodies.userSuspended), 'ACCESS_DENIED'],
    ['an empty 403 (web services off)', behaviours.webServicesDisabled(), 'ACCESS_DENIED'],
    ['an HTML error page', behaviours.html(500), 'BAD_RESPONSE'],
    ['truncated JSON', behaviours.truncatedJson(), 'BAD_RESPONSE'],
  ];
  it.each(siteInfoCases)('site info answering %s → %s', async (_name, behaviour, code) => {
    answers.core_webservice_get_site_info = behaviour;
    const { body } = await gateway.graphql<{ externalSites: SiteRow[] }>(SITES_QUERY);
    expect(body.data?.externalSites[0]?.info).toMatchObject({
      __typename: 'SiteFailure',
      code,
      site: 'peer',
    });
  });

  it('keeps the Retry-After of a maintenance page', async () => {
    answers.core_webservice_get_site_info = behaviours.maintenance(120);
    const { body } = await gateway.graphql<{ externalSites: { info: { retryAfterSeconds: number } }[] }>(
      '{ externalSites { info { ... on SiteFailure { retryAfterSeconds } } } }',
    );
    expect(body.data?.externalSites[0]?.info.retryAfterSeconds).toBe(120);
  });

  const zipCases: [string, ReturnType<typeof behaviours.moodle>, string][] = [
    ['invalidparameter (unknown user)', behaviours.moodle(moodleBodies.invalidParameter), 'USER_NOT_FOUND'],
    ['the empty-area answer in English', behaviours.moodle(moodleBodies.noFilesEnglish), 'NO_FILES'],
    ['the empty-area answer in French', behaviours.moodle(moodleBodies.noFilesFrench), 'NO_FILES'],
    ['nopermissions', behaviours.moodle(moodleBodies.noPermissions), 'ACCESS_DENIED'],
    [
      'invalidrecord (no such function)',
      behaviours.moodle(moodleBodies.functionNotFound),
      'FUNCTION_UNAVAILABLE',
    ],
    ['another Moodle exception', behaviours.moodle(moodleBodies.typeError), 'REMOTE_ERROR'],
    ['a body of the wrong shape', behaviours.moodle('{"contextid":"twelve"}'), 'BAD_RESPONSE'],
  ];
  it.each(zipCases)('the zip call answering %s → %s', async (_name, behaviour, code) => {
    answers.core_webservice_get_site_info = behaviours.moodle(moodleBodies.siteInfo);
    answers.block_my_external_privatefiles_get_private_files_zip = behaviour;
    const { body } = await gateway.graphql<{ privateFilesZip: { code: string; message: string } }>(
      '{ privateFilesZip(site: "peer", username: "alice") { ... on SiteFailure { code message } } }',
    );
    expect(body.data?.privateFilesZip.code).toBe(code);
  });

  it('answers FUNCTION_UNAVAILABLE without calling the zip function when the site does not list it', async () => {
    const withoutZip = moodleBodies.siteInfo.replace(
      '{"name":"block_my_external_privatefiles_get_private_files_zip","version":"2023053000"},',
      '',
    );
    answers.core_webservice_get_site_info = behaviours.moodle(withoutZip);
    answers.block_my_external_privatefiles_get_private_files_zip = behaviours.moodle(
      moodleBodies.privateFilesZip,
    );
    const before = moodle.requests.length;
    const { body } = await gateway.graphql<{
      privateFilesZip: { code: string };
      externalSites: { supportsPrivateFiles: boolean }[];
    }>(
      '{ privateFilesZip(site: "peer", username: "alice") { ... on SiteFailure { code } } externalSites { supportsPrivateFiles } }',
    );
    expect(body.data?.privateFilesZip.code).toBe('FUNCTION_UNAVAILABLE');
    expect(body.data?.externalSites[0]?.supportsPrivateFiles).toBe(false);
    const asked = moodle.requests.slice(before).map((request) => request.form.wsfunction);
    expect(asked).toEqual(['core_webservice_get_site_info']);
  });

  it('asks a site for its info once per request, however many fields need it', async () => {
    answers.core_webservice_get_site_info = behaviours.moodle(moodleBodies.siteInfo);
    const before = moodle.requests.length;
    await gateway.graphql(`{
      a: externalSites { name supportsPrivateFiles info { __typename } }
      b: externalSites { name info { __typename } }
    }`);
    expect(moodle.requests.length - before).toBe(1);
  });
});

describe('the site-info cache', () => {
  it('reuses a success across requests, shares one in-flight call, and forgets failures', async () => {
    const moodle = await startFaultInjector(behaviours.moodle(moodleBodies.siteInfo));
    const gateway = await startTestGateway({
      sites: [{ id: 'peer', url: moodle.url, token: 'peer-token-0123456789' }],
    });
    try {
      await Promise.all([
        gateway.graphql(SITES_QUERY),
        gateway.graphql(SITES_QUERY),
        gateway.graphql(SITES_QUERY),
      ]);
      await gateway.graphql(SITES_QUERY);
      expect(moodle.requests).toHaveLength(1);
    } finally {
      await gateway.close();
      await moodle.close();
    }
  });

  it('does not keep a failure: the site is asked again on the next request', async () => {
    const moodle = await startFaultInjector(behaviours.moodle(moodleBodies.invalidToken));
    const gateway = await startTestGateway({
      sites: [{ id: 'peer', url: moodle.url, token: 'peer-token-0123456789' }],
    });
    try {
      await gateway.graphql(SITES_QUERY);
      moodle.setBehaviour(behaviours.moodle(moodleBodies.siteInfo));
      const { body } = await gateway.graphql<{ externalSites: SiteRow[] }>(SITES_QUERY);
      expect(body.data?.externalSites[0]?.info.__typename).toBe('SiteInfo');
      expect(moodle.requests).toHaveLength(2);
    } finally {
      await gateway.close();
      await moodle.close();
    }
  });
});
