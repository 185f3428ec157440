import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';
import { apiKey, bearer, TEST_JWT_SECRET, userJwt } from './support/test-callers.js';

const acmeAdmin = apiKey('acme-admin', 'tenant-admin', 'acme');
const globexAdmin = apiKey('globex-admin', 'tenant-admin', 'globex');
const acmeService = apiKey('acme-portal', 'service', 'acme');
const globexService = apiKey('globex-portal', 'service', 'globex');

type Headers = Record<string, string>;

interface Tenant {
  readonly name: 'acme' | 'globex';
  readonly admin: Headers;
  readonly service: Headers;
  readonly user: Headers;
  /** A site id only this tenant has. */
  readonly ownSite: string;
}

describe('tenants: two institutions behind one gateway, each seeing only its own sites', () => {
  let acmeMoodle: LaunchedProvider;
  let globexMoodle: LaunchedProvider;
  let gateway: TestGateway;
  let acme: Tenant;
  let globex: Tenant;

  beforeAll(async () => {
    [acmeMoodle, globexMoodle] = await Promise.all([
      launchRestProvider({ siteName: 'Acme Moodle' }),
      launchRestProvider({ siteName: 'Globex Moodle' }),
    ]);
    gateway = await startTestGateway(
      {
        sites: [{ id: 'home', url: acmeMoodle.url, token: acmeMoodle.token, name: 'Home of default' }],
        auth: {
          jwt: { secret: TEST_JWT_SECRET },
          apiKeys: [acmeAdmin.config, globexAdmin.config, acmeService.config, globexService.config],
        },
      },
      {
        secrets: [acmeAdmin.key, globexAdmin.key, acmeService.key, globexService.key, globexMoodle.token],
      },
    );
    acme = {
      name: 'acme',
      admin: bearer(acmeAdmin.key),
      service: bearer(acmeService.key),
      user: bearer(await userJwt('alice', 'acme')),
      ownSite: 'acme-only',
    };
    globex = {
      name: 'globex',
      admin: bearer(globexAdmin.key),
      service: bearer(globexService.key),
      user: bearer(await userJwt('alice', 'globex')),
      ownSite: 'globex-only',
    };
    // Each tenant admin registers its sites in its own tenant: one id they share, one each of their own.
    for (const [tenant, moodle] of [
      [acme, acmeMoodle],
      [globex, globexMoodle],
    ] as const) {
      for (const id of ['shared', tenant.ownSite]) {
        const { body } = await gateway.graphql(
          `mutation($input: RegisterSiteInput!) { registerSite(input: $input) { __typename } }`,
          { input: { id, url: moodle.url, token: moodle.token, name: `${tenant.name} ${id}` } },
          tenant.admin,
        );
        expect(body.data).toEqual({ registerSite: { __typename: 'ExternalSite' } });
      }
    }
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([acmeMoodle?.close(), globexMoodle?.close()]);
  });

  const listed = async (headers: Headers) => {
    const { body } = await gateway.graphql<{ externalSites: { id: string; name: string }[] }>(
      '{ externalSites { id name } }',
      {},
      headers,
    );
    return body.data?.externalSites.map((site) => `${site.id}=${site.name}`).sort();
  };

  /** What a caller gets back for a site: an error is kept whole but for the id it names. */
  const answerFor = async (query: string, id: string, headers: Headers) => {
    const { body } = await gateway.graphql(query.replace('$ID', id), {}, headers);
    return JSON.parse(JSON.stringify(body).replaceAll(id, '<id>'));
  };

  for (const [mine, theirs] of [
    ['acme', 'globex'],
    ['globex', 'acme'],
  ] as const) {
    describe(`${mine} and ${theirs}`, () => {
      const us = () => (mine === 'acme' ? acme : globex);
      const them = () => (mine === 'acme' ? globex : acme);

      it(`lists only ${mine}'s sites to ${mine}'s user, service and admin`, async () => {
        const expected = [`${us().ownSite}=${mine} ${us().ownSite}`, `shared=${mine} shared`].sort();
        for (const caller of [us().user, us().service, us().admin])
          expect(await listed(caller)).toEqual(expected);
      });

      it(`answers a site of ${theirs} exactly as an unknown site, to every kind of ${mine} caller`, async () => {
        const queries = [
          '{ externalSite(id: "$ID") { id } }',
          '{ privateFilesZip(site: "$ID", username: "alice") { __typename } }',
        ];
        for (const caller of [us().user, us().service, us().admin]) {
          for (const query of queries) {
            const theirsAnswer = await answerFor(query, them().ownSite, caller);
            const unknownAnswer = await answerFor(query, 'no-such-site', caller);
            expect(theirsAnswer).toEqual(unknownAnswer);
          }
        }
        const sync = `mutation { syncUser(sites: ["$ID"], input: { username: "carol", firstName: "C", lastName: "D", email: "c@example.com", password: "Secret-123456" }) { __typename } }`;
        expect(await answerFor(sync, them().ownSite, us().service)).toEqual(
          await answerFor(sync, 'no-such-site', us().service),
        );
        const unknown = await answerFor(queries[1] as string, 'no-such-site', us().user);
        expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      });

      it(`zips ${mine}'s own "shared" site, never ${theirs}'s site of the same id`, async () => {
        const { body } = await gateway.graphql<{ privateFilesZip: { filename: string } }>(
          '{ privateFilesZip(site: "shared", username: "alice") { ... on PrivateFilesZip { filename } } }',
          {},
          us().user,
        );
        const moodleName = mine === 'acme' ? 'Acme_Moodle' : 'Globex_Moodle';
        expect(body.data?.privateFilesZip.filename).toContain(moodleName);
        const bundle = await gateway.graphql<{ privateFilesBundle: { sites: string[] } }>(
          '{ privateFilesBundle(username: "alice") { sites } }',
          {},
          us().user,
        );
        expect(bundle.body.data?.privateFilesBundle.sites.sort()).toEqual([us().ownSite, 'shared'].sort());
      });

      it(`lets ${mine}'s admin manage only ${mine}'s sites: ${theirs}'s answer as unknown or forbidden`, async () => {
        const update = 'mutation { updateSite(input: { id: "$ID", priority: 3 }) { __typename } }';
        const remove = 'mutation { removeSite(id: "$ID") { id } }';
        for (const query of [update, remove]) {
          expect(await answerFor(query, them().ownSite, us().admin)).toEqual(
            await answerFor(query, 'no-such-site', us().admin),
          );
        }
        // Naming another tenant is refused the same way whether that tenant exists or not.
        for (const tenant of [theirs, 'no-such-tenant']) {
          const list = await gateway.graphql(`{ registrySites(tenant: "${tenant}") { id } }`, {}, us().admin);
          expect(list.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
          const register = await gateway.graphql(
            `mutation { registerSite(input: { tenant: "${tenant}", url: "http://127.0.0.1:9", token: "x" }) { __typename } }`,
            {},
            us().admin,
          );
          expect(register.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        }
        const own = await gateway.graphql<{ registrySites: { id: string }[] }>(
          '{ registrySites { id } }',
          {},
          us().admin,
        );
        expect(own.body.data?.registrySites.map((site) => site.id).sort()).toEqual(
          [us().ownSite, 'shared'].sort(),
        );
        // Its sites are still whole after the attempts.
        expect(await listed(them().user)).toHaveLength(2);
      });

      it(`refuses tenant management and provider management to ${mine}'s admin`, async () => {
        for (const query of [
          '{ tenants { id } }',
          'mutation { createTenant(id: "sneaky") { id } }',
          `mutation { removeTenant(id: "${theirs}") { id } }`,
          '{ providerUsers { username } }',
        ]) {
          const { body } = await gateway.graphql(query, {}, us().admin);
          expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        }
      });
    });
  }

  it('lets the global admin see and manage every tenant', async () => {
    const tenants = await gateway.graphql<{ tenants: unknown[] }>('{ tenants { id source siteCount } }');
    expect(tenants.body.data?.tenants).toEqual([
      { id: 'acme', source: 'CONFIG', siteCount: 2 },
      { id: 'default', source: 'CONFIG', siteCount: 1 },
      { id: 'globex', source: 'CONFIG', siteCount: 2 },
    ]);
    const acmeSites = await gateway.graphql<{ registrySites: { id: string; tenant: string }[] }>(
      '{ registrySites(tenant: "acme") { id tenant } }',
    );
    expect(acmeSites.body.data?.registrySites).toEqual([
      { id: 'acme-only', tenant: 'acme' },
      { id: 'shared', tenant: 'acme' },
    ]);
    const { body } = await gateway.graphql(
      'mutation { updateSite(input: { tenant: "globex", id: "shared", priority: 7 }) { ... on ExternalSite { tenant id priority } } }',
    );
    expect(body.data).toEqual({ updateSite: { tenant: 'globex', id: 'shared', priority: 7 } });
    // The global admin's own tenant is `default`: it lists that tenant's sites.
    expect(await listed({})).toEqual(['home=Home of default']);
  });

  it('creates a tenant whose sites start empty, refuses to remove one with sites, then removes it', async () => {
    const created = await gateway.graphql(
      'mutation { createTenant(id: "initech", name: "Initech") { id name source } }',
    );
    expect(created.body.data).toEqual({
      createTenant: { id: 'initech', name: 'Initech', source: 'REGISTRY' },
    });
    const again = await gateway.graphql('mutation { createTenant(id: "initech") { id } }');
    expect(again.body.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const nowhere = await gateway.graphql(
      `mutation($input: RegisterSiteInput!) { registerSite(input: $input) { __typename } }`,
      { input: { tenant: 'nowhere', url: acmeMoodle.url, token: acmeMoodle.token } },
    );
    expect(nowhere.body.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'tenant' });
    const registered = await gateway.graphql(
      `mutation($input: RegisterSiteInput!) { registerSite(input: $input) { ... on ExternalSite { tenant id } } }`,
      { input: { tenant: 'initech', id: 'moodle', url: acmeMoodle.url, token: acmeMoodle.token } },
    );
    expect(registered.body.data).toEqual({ registerSite: { tenant: 'initech', id: 'moodle' } });
    const initechUser = bearer(await userJwt('alice', 'initech'));
    expect(await listed(initechUser)).toEqual(['moodle=Acme Moodle']);

    const refused = await gateway.graphql('mutation { removeTenant(id: "initech") { id } }');
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const configured = await gateway.graphql('mutation { removeTenant(id: "acme") { id } }');
    expect(configured.body.errors?.[0]?.extensions?.code).toBe('READ_ONLY');
    const removed = await gateway.graphql(
      'mutation { removeTenant(id: "initech", removeSites: true) { id removedSites } }',
    );
    expect(removed.body.data).toEqual({ removeTenant: { id: 'initech', removedSites: 1 } });
    expect(await listed(initechUser)).toEqual([]);
  });

  it('labels site metrics and log lines with the tenant', async () => {
    const metrics = await request(`${gateway.url}/metrics`);
    const text = await metrics.body.text();
    expect(text).toMatch(
      /moodle_gateway_site_request_duration_seconds_count\{[^}]*tenant="acme"[^}]*site="shared"/,
    );
    expect(text).toMatch(
      /moodle_gateway_site_request_duration_seconds_count\{[^}]*tenant="globex"[^}]*site="shared"/,
    );
    const issued = gateway.logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'download link issued' || line.msg === 'site registered');
    expect(issued.length).toBeGreaterThan(0);
    for (const line of issued) expect(line.tenant).toMatch(/^(acme|globex|initech)$/);
  });
});
