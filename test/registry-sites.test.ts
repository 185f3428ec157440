import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPortUrl } from './support/fault-injector.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';
import { apiKey, bearer, TEST_JWT_SECRET, userJwt } from './support/test-callers.js';

const ZIP_FUNCTION = 'block_my_external_privatefiles_get_private_files_zip';
const WRONG_TOKEN = '0123456789abcdef0123456789abcdef';
const service = apiKey('portal', 'service');

const REGISTER = `mutation Register($input: RegisterSiteInput!) {
  registerSite(input: $input) {
    __typename
    ... on ExternalSite {
      id name url priority enabled visible trusted
      registration {
        source readOnly maskedToken timeoutMs registeredAt
        recorded { sitename release version functions checkedAt }
      }
    }
    ... on SiteFailure { site code message siteUrl }
  }
}`;

const UPDATE = `mutation Update($input: UpdateSiteInput!) {
  updateSite(input: $input) {
    __typename
    ... on ExternalSite { id name priority enabled visible trusted registration { maskedToken } }
    ... on SiteFailure { code message }
  }
}`;

const LIST = '{ externalSites { id name } }';

interface Listed {
  externalSites: { id: string; name: string }[];
}

describe('the site registry: sites registered at run time beside the configured ones', () => {
  let sciences: LaunchedProvider;
  let law: LaunchedProvider;
  let dataDir: string;
  let gateway: TestGateway;
  let deadUrl: string;
  let rotatedToken = '';

  const start = () =>
    startTestGateway(
      {
        sites: [{ id: 'configured', url: sciences.url, token: sciences.token, priority: 5 }],
        registry: { dataDir },
        auth: { jwt: { secret: TEST_JWT_SECRET }, apiKeys: [service.config] },
      },
      { secrets: [law.token, service.key, ...(rotatedToken ? [rotatedToken] : [])] },
    );
  const ids = async (headers: Record<string, string> = {}) =>
    ((await gateway.graphql<Listed>(LIST, {}, headers)).body.data?.externalSites ?? []).map(
      (site) => site.id,
    );

  beforeAll(async () => {
    [sciences, law] = await Promise.all([
      launchRestProvider({ siteName: 'Faculty of Sciences' }),
      launchRestProvider({ siteName: 'Faculty of Law' }),
    ]);
    dataDir = await mkdtemp(join(tmpdir(), 'registry-sites-'));
    deadUrl = await closedPortUrl();
    gateway = await start();
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([sciences?.close(), law?.close()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('registers a site after asking it, records its name, release and functions, and lists it at once', async () => {
    const { body } = await gateway.graphql(REGISTER, {
      input: { url: law.url, token: law.token, id: 'law', priority: 10 },
    });
    expect(body.errors).toBeUndefined();
    expect(body.data?.registerSite).toMatchObject({
      __typename: 'ExternalSite',
      id: 'law',
      name: 'Faculty of Law',
      url: law.url,
      priority: 10,
      enabled: true,
      visible: true,
      trusted: false,
      registration: {
        source: 'REGISTRY',
        readOnly: false,
        maskedToken: `••••…${law.token.slice(-4)}`,
        timeoutMs: null,
        recorded: { sitename: 'Faculty of Law', release: '4.5 (Build: 20241007)', version: '2024100700' },
      },
    });
    const registered = body.data?.registerSite as { registration: { recorded: { functions: string[] } } };
    expect(registered.registration.recorded.functions).toContain(ZIP_FUNCTION);
    // Higher priority first: the new site comes before the configured one.
    expect(await ids()).toEqual(['law', 'configured']);
    const zip = await gateway.graphql<{ privateFilesZip: { __typename: string; filename: string } }>(
      '{ privateFilesZip(site: "law", username: "alice") { __typename ... on PrivateFilesZip { filename } } }',
    );
    expect(zip.body.data?.privateFilesZip).toMatchObject({
      __typename: 'PrivateFilesZip',
      filename: expect.stringContaining('Faculty_of_Law'),
    });
  });

  it("refuses a site whose token is bad with the site's own failure, and saves nothing", async () => {
    const { body } = await gateway.graphql(REGISTER, {
      input: { url: law.url, token: WRONG_TOKEN, id: 'law-again' },
    });
    expect(body.data?.registerSite).toMatchObject({
      __typename: 'SiteFailure',
      site: 'law-again',
      code: 'INVALID_TOKEN',
      message: expect.stringContaining('Invalid token - token not found'),
      siteUrl: law.url,
    });
    expect(await ids()).not.toContain('law-again');
  });

  it('refuses a site that does not answer', async () => {
    const { body } = await gateway.graphql(REGISTER, { input: { url: deadUrl, token: WRONG_TOKEN } });
    expect(body.data?.registerSite).toMatchObject({ __typename: 'SiteFailure', code: 'UNREACHABLE' });
    const { body: sites } = await gateway.graphql<{ registrySites: { id: string }[] }>(
      '{ registrySites { id } }',
    );
    expect(sites.data?.registrySites.map((site) => site.id).sort()).toEqual(['configured', 'law']);
  });

  it('refuses an id the tenant already uses, in the configuration or the registry, and bad input', async () => {
    for (const id of ['configured', 'law']) {
      const { body } = await gateway.graphql(REGISTER, { input: { url: law.url, token: law.token, id } });
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'id' });
    }
    const badUrl = await gateway.graphql(REGISTER, {
      input: { url: 'ftp://moodle.example', token: law.token },
    });
    expect(badUrl.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    const badId = await gateway.graphql(REGISTER, {
      input: { url: law.url, token: law.token, id: 'Not A Slug' },
    });
    expect(badId.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });

  it('lists configuration sites as read-only, and refuses to change or remove them', async () => {
    const { body } = await gateway.graphql<{ registrySites: unknown[] }>(
      '{ registrySites { id registration { source readOnly maskedToken } } }',
    );
    expect(body.data?.registrySites).toContainEqual({
      id: 'configured',
      registration: { source: 'CONFIG', readOnly: true, maskedToken: `••••…${sciences.token.slice(-4)}` },
    });
    const update = await gateway.graphql(UPDATE, { input: { id: 'configured', priority: 99 } });
    expect(update.body.errors?.[0]?.extensions?.code).toBe('READ_ONLY');
    const remove = await gateway.graphql('mutation { removeSite(id: "configured") { id } }');
    expect(remove.body.errors?.[0]?.extensions?.code).toBe('READ_ONLY');
  });

  it('applies a change of name and priority to every query at once', async () => {
    const { body } = await gateway.graphql(UPDATE, { input: { id: 'law', name: 'Law School', priority: 1 } });
    expect(body.data?.updateSite).toMatchObject({
      __typename: 'ExternalSite',
      name: 'Law School',
      priority: 1,
    });
    const { body: listed } = await gateway.graphql<Listed>(LIST);
    expect(listed.data?.externalSites).toEqual([
      { id: 'configured', name: 'Faculty of Sciences' },
      { id: 'law', name: 'Law School' },
    ]);
  });

  it('leaves a hidden site out for users and services, but lists it for admins', async () => {
    await gateway.graphql(UPDATE, { input: { id: 'law', visible: false } });
    const alice = bearer(await userJwt('alice'));
    expect(await ids(alice)).toEqual(['configured']);
    expect(await ids(bearer(service.key))).toEqual(['configured']);
    expect(await ids()).toEqual(['configured', 'law']);
    const zips = await gateway.graphql<{ privateFilesZips: { site: string }[] }>(
      '{ privateFilesZips(username: "alice") { ... on PrivateFilesZip { site } ... on SiteFailure { site } } }',
      {},
      alice,
    );
    expect(zips.body.data?.privateFilesZips.map((zip) => zip.site)).toEqual(['configured']);
    // Unlisted, not gone: the site still answers by its id.
    const byId = await gateway.graphql<{ externalSite: { id: string } | null }>(
      '{ externalSite(id: "law") { id } }',
      {},
      alice,
    );
    expect(byId.body.data?.externalSite).toEqual({ id: 'law' });
    await gateway.graphql(UPDATE, { input: { id: 'law', visible: true } });
    expect(await ids(alice)).toEqual(['configured', 'law']);
  });

  it('takes a disabled site out of every list and of the zips', async () => {
    await gateway.graphql(UPDATE, { input: { id: 'law', enabled: false } });
    expect(await ids(bearer(service.key))).toEqual(['configured']);
    const zip = await gateway.graphql('{ privateFilesZip(site: "law", username: "alice") { __typename } }');
    expect(zip.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await gateway.graphql(UPDATE, { input: { id: 'law', enabled: true } });
  });

  it('tries a new token on the site first: a bad one changes nothing, a good one is used at once', async () => {
    const refused = await gateway.graphql(UPDATE, { input: { id: 'law', token: WRONG_TOKEN } });
    expect(refused.body.data?.updateSite).toMatchObject({ __typename: 'SiteFailure', code: 'INVALID_TOKEN' });
    const still = await gateway.graphql<{ privateFilesZip: { __typename: string } }>(
      '{ privateFilesZip(site: "law", username: "alice") { __typename } }',
    );
    expect(still.body.data?.privateFilesZip.__typename).toBe('PrivateFilesZip');

    const created = await law.admin.createWebServiceToken({
      username: law.seed.accountUsername,
      service: law.seed.serviceShortname,
    });
    rotatedToken = created.token;
    const rotated = await gateway.graphql(UPDATE, { input: { id: 'law', token: rotatedToken } });
    expect(rotated.body.data?.updateSite).toMatchObject({
      __typename: 'ExternalSite',
      registration: { maskedToken: `••••…${rotatedToken.slice(-4)}` },
    });
    const before = law.provider.url;
    expect(before).toBe(law.url);
    const zip = await gateway.graphql<{ privateFilesZip: { __typename: string } }>(
      '{ privateFilesZip(site: "law", username: "alice") { __typename } }',
    );
    expect(zip.body.data?.privateFilesZip.__typename).toBe('PrivateFilesZip');
    const tokens = await law.admin.listTokens();
    const used = tokens.find((token) => token.masked.endsWith(rotatedToken.slice(-4)));
    expect(used?.lastAccess).not.toBeNull();
  });

  it('answers and logs a registered token only masked', async () => {
    const { body } = await gateway.graphql('{ registrySites { id registration { maskedToken } } }');
    const said = JSON.stringify(body) + gateway.logLines.join('\n');
    for (const token of [law.token, rotatedToken, WRONG_TOKEN]) expect(said).not.toContain(token);
  });

  it('refuses the registry to users and services', async () => {
    for (const headers of [bearer(await userJwt('alice')), bearer(service.key)]) {
      const register = await gateway.graphql(
        REGISTER,
        { input: { url: law.url, token: law.token } },
        headers,
      );
      expect(register.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const list = await gateway.graphql('{ registrySites { id } }', {}, headers);
      expect(list.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('keeps registered sites, their settings and their new token across a restart', async () => {
    await gateway.graphql(UPDATE, { input: { id: 'law', trusted: true, timeoutMs: 4000 } });
    await gateway.close();
    gateway = await start();
    const { body } = await gateway.graphql<{ registrySites: unknown[] }>(
      '{ registrySites { id name priority trusted registration { source maskedToken timeoutMs } } }',
    );
    expect(body.data?.registrySites).toEqual([
      {
        id: 'configured',
        name: 'Faculty of Sciences',
        priority: 5,
        trusted: true,
        registration: { source: 'CONFIG', maskedToken: expect.any(String), timeoutMs: null },
      },
      {
        id: 'law',
        name: 'Law School',
        priority: 1,
        trusted: true,
        registration: { source: 'REGISTRY', maskedToken: `••••…${rotatedToken.slice(-4)}`, timeoutMs: 4000 },
      },
    ]);
    const zip = await gateway.graphql<{ privateFilesZip: { __typename: string } }>(
      '{ privateFilesZip(site: "law", username: "alice") { __typename } }',
    );
    expect(zip.body.data?.privateFilesZip.__typename).toBe('PrivateFilesZip');
  });

  it('removes a site at once, and for good', async () => {
    const { body } = await gateway.graphql('mutation { removeSite(id: "law") { tenant id } }');
    expect(body.data).toEqual({ removeSite: { tenant: 'default', id: 'law' } });
    expect(await ids()).toEqual(['configured']);
    const zip = await gateway.graphql('{ privateFilesZip(site: "law", username: "alice") { __typename } }');
    expect(zip.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const again = await gateway.graphql('mutation { removeSite(id: "law") { id } }');
    expect(again.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await gateway.close();
    gateway = await start();
    expect(await ids()).toEqual(['configured']);
  });
});
