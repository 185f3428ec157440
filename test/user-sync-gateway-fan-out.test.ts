import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/auth/authenticate.js';
import { closedPortUrl, type FaultInjector, startFaultInjector } from './support/fault-injector.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { type FakeMoodle, startFakeMoodle } from './support/user-sync-fake-moodle.js';
import { launchSyncProvider, type SyncProvider } from './support/user-sync-provider.js';

const SERVICE_KEY = 'user-sync-service-key-0123456789';
const PASSWORD = 'Fan-out-secret-42';

const SYNC = `mutation Sync($input: SyncUserInput!, $sites: [ID!]) {
  syncUser(input: $input, sites: $sites) {
    __typename
    ... on UserSynced { site userId created changed }
    ... on SiteFailure { site code message retryable }
  }
}`;

interface SiteResult {
  readonly __typename: 'UserSynced' | 'SiteFailure';
  readonly site: string;
  readonly userId?: number;
  readonly created?: boolean;
  readonly changed?: boolean;
  readonly code?: string;
  readonly message?: string;
}

let alpha: SyncProvider;
let beta: SyncProvider;
let moodle: FakeMoodle;
let silent: FaultInjector;
let gateway: TestGateway;

beforeAll(async () => {
  [alpha, beta, moodle, silent] = await Promise.all([
    launchSyncProvider({ siteName: 'Alpha' }),
    launchSyncProvider({ siteName: 'Beta' }),
    startFakeMoodle({ courses: ['W1', 'W2'] }),
    startFaultInjector({ kind: 'never-answer' }),
  ]);
  const credentials = (provider: SyncProvider) => ({ client: provider.client, token: provider.token });
  gateway = await startTestGateway({
    auth: { apiKeys: [{ id: 'portal', sha256: sha256Hex(SERVICE_KEY), role: 'service' }] },
    sites: [
      {
        id: 'alpha',
        url: alpha.url,
        token: alpha.launched.token,
        kind: 'provider',
        userSync: credentials(alpha),
        priority: 9,
      },
      {
        id: 'beta',
        url: beta.url,
        token: beta.launched.token,
        kind: 'provider',
        userSync: credentials(beta),
        priority: 8,
      },
      {
        id: 'wrong-token',
        url: beta.url,
        token: beta.launched.token,
        kind: 'provider',
        userSync: { client: beta.client, token: 'not-the-right-token' },
        priority: 7,
      },
      {
        id: 'down',
        url: await closedPortUrl(),
        token: 'x',
        kind: 'provider',
        userSync: credentials(beta),
        priority: 6,
      },
      {
        id: 'silent',
        url: silent.url,
        token: 'x',
        kind: 'provider',
        userSync: credentials(beta),
        timeoutMs: 300,
        priority: 5,
      },
      {
        id: 'moodle',
        url: moodle.url,
        token: moodle.token,
        roles: { collaborator: 5, manager: 3 },
        priority: 4,
      },
    ],
  });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([alpha?.close(), beta?.close(), moodle?.close(), silent?.close()]);
});

function input(overrides: Record<string, unknown> = {}) {
  return {
    username: 'nina',
    firstName: 'Nina',
    lastName: 'Example',
    email: 'nina@example.com',
    password: PASSWORD,
    workspaces: [{ workspace: 'W1', role: 'collaborator' }],
    ...overrides,
  };
}

async function syncUser(variables: Record<string, unknown>, headers?: Record<string, string>) {
  const { body } = await gateway.graphql<{ syncUser: SiteResult[] }>(SYNC, variables, headers);
  return body;
}

async function registrations(provider: SyncProvider, username: string) {
  return (await provider.admin.listRegistrations({ username })).map((r) => `${r.workspace}:${r.role}`).sort();
}

describe('syncUser across sites', () => {
  it('pushes the user to every enabled site at once, each site failing or succeeding on its own', async () => {
    const started = performance.now();
    const body = await syncUser({ input: input() });
    expect(body.errors).toBeUndefined();
    const results = body.data?.syncUser ?? [];
    expect(results.map((r) => [r.site, r.__typename, r.code ?? r.created])).toEqual([
      ['alpha', 'UserSynced', true],
      ['beta', 'UserSynced', true],
      ['wrong-token', 'SiteFailure', 'ACCESS_DENIED'],
      ['down', 'SiteFailure', 'UNREACHABLE'],
      ['silent', 'SiteFailure', 'TIMEOUT'],
      ['moodle', 'UserSynced', true],
    ]);
    // The silent site's deadline (3 × 300 ms) sets the pace, not the sum of the sites.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(results.every((r) => r.__typename === 'SiteFailure' || r.changed === true)).toBe(true);
    expect(await registrations(alpha, 'nina')).toEqual(['W1:collaborator']);
    expect(await registrations(beta, 'nina')).toEqual(['W1:collaborator']);
    const ninaOnMoodle = [...moodle.users.values()].find((user) => user.username === 'nina');
    expect(moodle.enrolmentsOf(ninaOnMoodle?.id ?? 0)).toEqual({ W1: [5] });
    expect(results.find((r) => r.site === 'wrong-token')?.message).toContain('Access Denied');
  });

  it('changes nothing the second time the same synchronization runs, and says so', async () => {
    const asked = input({
      username: 'olga',
      email: 'olga@example.com',
      workspaces: [{ workspace: 'W2', role: 'manager' }],
    });
    const sites = ['alpha', 'beta', 'moodle'];
    const first = (await syncUser({ input: asked, sites })).data?.syncUser ?? [];
    expect(first.map((r) => [r.site, r.created, r.changed])).toEqual([
      ['alpha', true, true],
      ['beta', true, true],
      ['moodle', true, true],
    ]);
    const moodleWrites = moodle.writes().length;
    const second = (await syncUser({ input: asked, sites })).data?.syncUser ?? [];
    expect(second).toEqual(first.map((r) => ({ ...r, created: false, changed: false })));
    expect(moodle.writes()).toHaveLength(moodleWrites);
  });

  it('moves the registrations when the workspaces change, on every site', async () => {
    const asked = input({ username: 'pablo', email: 'pablo@example.com' });
    await syncUser({ input: asked, sites: ['alpha', 'beta'] });
    const moved = await syncUser({
      input: { ...asked, workspaces: [{ workspace: 'W2', role: 'manager' }] },
      sites: ['alpha', 'beta'],
    });
    expect(moved.data?.syncUser.map((r) => [r.site, r.created, r.changed])).toEqual([
      ['alpha', false, true],
      ['beta', false, true],
    ]);
    expect(await registrations(alpha, 'pablo')).toEqual(['W2:manager']);
    expect(await registrations(beta, 'pablo')).toEqual(['W2:manager']);
  });

  it('asks only the chosen sites, in the order given, once each', async () => {
    const body = await syncUser({
      input: input({ username: 'quinn', email: 'quinn@example.com' }),
      sites: ['beta', 'alpha', 'beta'],
    });
    expect(body.data?.syncUser.map((r) => r.site)).toEqual(['beta', 'alpha']);
  });

  it("reports each site's own refusal, such as an unknown workspace there", async () => {
    const body = await syncUser({
      input: input({
        username: 'rita',
        email: 'rita@example.com',
        workspaces: [{ workspace: 'NOWHERE', role: 'manager' }],
      }),
      sites: ['alpha', 'moodle'],
    });
    const [onAlpha, onMoodle] = body.data?.syncUser ?? [];
    expect(onAlpha).toMatchObject({ __typename: 'SiteFailure', code: 'REMOTE_ERROR' });
    expect(onAlpha?.message).toContain('User edition error');
    expect(onMoodle).toMatchObject({ __typename: 'SiteFailure', code: 'REMOTE_ERROR' });
    expect(onMoodle?.message).toContain('no course with the short name "NOWHERE"');
    expect(await alpha.launched.provider.store.users.getByUsername('rita')).toBeNull();
  });

  it('answers NOT_FOUND for a site it does not know, before asking any', async () => {
    const body = await syncUser({ input: input({ username: 'sam' }), sites: ['alpha', 'nowhere'] });
    expect(body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await alpha.launched.provider.store.users.getByUsername('sam')).toBeNull();
  });

  it.each([
    ['an empty username', { username: '' }, 'input.username'],
    ['a blank first name', { firstName: '  ' }, 'input.firstName'],
    ['an e-mail that is none', { email: 'nope' }, 'input.email'],
    ['an empty password', { password: '' }, 'input.password'],
    [
      'an empty workspace',
      { workspaces: [{ workspace: '', role: 'manager' }] },
      'input.workspaces[0].workspace',
    ],
  ])('refuses %s as the caller’s mistake, asking no site', async (_case, overrides, field) => {
    const body = await syncUser({ input: input({ username: 'tess', ...overrides }) });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await alpha.launched.provider.store.users.getByUsername('tess')).toBeNull();
  });

  it('is allowed to a service key and refused to anonymous callers', async () => {
    const asService = await syncUser(
      { input: input({ username: 'uma', email: 'uma@example.com' }), sites: ['alpha'] },
      { authorization: `Bearer ${SERVICE_KEY}` },
    );
    expect(asService.data?.syncUser[0]).toMatchObject({ __typename: 'UserSynced', created: true });
    const anonymous = await syncUser(
      { input: input({ username: 'vera' }), sites: ['alpha'] },
      { authorization: '' },
    );
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('says the provider is not enabled when its workspaces are managed on a gateway without one', async () => {
    const { body } = await gateway.graphql('{ providerWorkspaces { code } }');
    expect(body.errors?.[0]?.extensions?.code).toBe('PROVIDER_DISABLED');
  });

  it('never puts the password or a security token in a response or a log line', async () => {
    const body = await syncUser({
      input: input({ username: 'walt', email: 'walt@example.com', password: 'Tiny-7x' }),
    });
    const text = JSON.stringify(body);
    const logs = [...gateway.logLines, ...alpha.logLines, ...beta.logLines].join('\n');
    for (const secret of [PASSWORD, 'Tiny-7x', alpha.token, beta.token, 'not-the-right-token']) {
      expect(text).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });
});
