import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/auth/authenticate.js';
import { startTestGateway, TEST_ADMIN_KEY, type TestGateway } from './support/gateway-harness.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';

const JWT_SECRET = 'matrix-jwt-secret-0123456789abcdef-0123456789';
const SERVICE_KEY = 'matrix-service-key-0123456789';

async function userToken(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(JWT_SECRET));
}

type Outcome = 'allowed' | 'FORBIDDEN' | 'UNAUTHENTICATED';
type Role = 'anonymous' | 'alice' | 'bob' | 'service' | 'admin';

const operations: Record<string, string> = {
  'externalSites, public fields': '{ externalSites { id name url } }',
  'externalSites, site info': '{ externalSites { info { __typename } supportsPrivateFiles } }',
  "privateFilesZip for alice's files": '{ privateFilesZip(site: "local", username: "alice") { __typename } }',
  "privateFilesZips for alice's files": '{ privateFilesZips(username: "alice") { __typename } }',
  'providerUsers (management query)': '{ providerUsers { username } }',
  'providerTokens (management query)': '{ providerTokens { masked } }',
  'createProviderUser (management mutation)':
    'mutation { createProviderUser(input: { username: "matrix-NAME" }) { username } }',
  'runProviderCleanup (management mutation)': 'mutation { runProviderCleanup { deletedZips } }',
  'syncUser (push a user to the platforms)':
    'mutation { syncUser(input: { username: "erin", firstName: "E", lastName: "N", email: "erin@example.com", password: "Passw0rd!long" }) { __typename } }',
};

// Who may do what; alice asks for her own files, bob for someone else's.
const expected: Record<string, Record<Role, Outcome>> = {
  'externalSites, public fields': {
    anonymous: 'allowed',
    alice: 'allowed',
    bob: 'allowed',
    service: 'allowed',
    admin: 'allowed',
  },
  'externalSites, site info': {
    anonymous: 'UNAUTHENTICATED',
    alice: 'allowed',
    bob: 'allowed',
    service: 'allowed',
    admin: 'allowed',
  },
  "privateFilesZip for alice's files": {
    anonymous: 'UNAUTHENTICATED',
    alice: 'allowed',
    bob: 'FORBIDDEN',
    service: 'allowed',
    admin: 'allowed',
  },
  "privateFilesZips for alice's files": {
    anonymous: 'UNAUTHENTICATED',
    alice: 'allowed',
    bob: 'FORBIDDEN',
    service: 'allowed',
    admin: 'allowed',
  },
  'providerUsers (management query)': {
    anonymous: 'UNAUTHENTICATED',
    alice: 'FORBIDDEN',
    bob: 'FORBIDDEN',
    service: 'FORBIDDEN',
    admin: 'allowed',
  },
  'providerTokens (management query)': {
    anonymous: 'UNAUTHENTICATED',
    alice: 'FORBIDDEN',
    bob: 'FORBIDDEN',
    service: 'FORBIDDEN',
    admin: 'allowed',
  },
  'createProviderUser (management mutation)': {
    anonymous: 'UNAUTHENTICATED',
    alice: 'FORBIDDEN',
    bob: 'FORBIDDEN',
    service: 'FORBIDDEN',
    admin: 'allowed',
  },
  'syncUser (push a user to the platforms)': {
    anonymous: 'UNAUTHENTICATED',
    alice: 'FORBIDDEN',
    bob: 'FORBIDDEN',
    service: 'allowed',
    admin: 'allowed',
  },
  'runProviderCleanup (management mutation)': {
    anonymous: 'UNAUTHENTICATED',
    alice: 'FORBIDDEN',
    bob: 'FORBIDDEN',
    service: 'FORBIDDEN',
    admin: 'allowed',
  },
};

describe('the authorization matrix: every operation × every role', () => {
  let provider: LaunchedProvider;
  let gateway: TestGateway;
  let dataDir: string;
  const bearer: Partial<Record<Role, string>> = {};

  beforeAll(async () => {
    provider = await launchRestProvider();
    dataDir = await mkdtemp(join(tmpdir(), 'gateway-matrix-'));
    gateway = await startTestGateway({
      sites: [{ id: 'local', url: provider.url, token: provider.token }],
      provider: { enabled: true, dataDir },
      auth: {
        jwt: { secret: JWT_SECRET },
        apiKeys: [{ id: 'portal', sha256: sha256Hex(SERVICE_KEY), role: 'service' }],
      },
    });
    bearer.alice = await userToken({ preferred_username: 'alice', sub: 'u-1' });
    bearer.bob = await userToken({ sub: 'bob' });
    bearer.service = SERVICE_KEY;
    bearer.admin = TEST_ADMIN_KEY;
  });
  afterAll(async () => {
    await gateway.close();
    await provider.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const roles: Role[] = ['anonymous', 'alice', 'bob', 'service', 'admin'];
  const cases = Object.keys(operations).flatMap((operation) =>
    roles.map((role) => [operation, role] as const),
  );

  it.each(cases)('%s, asked by %s', async (operation, role) => {
    const query = (operations[operation] as string).replace('NAME', role);
    const token = bearer[role];
    const { status, body } = await gateway.graphql(query, undefined, {
      authorization: token === undefined ? '' : `Bearer ${token}`,
    });
    const outcome = expected[operation]?.[role];
    expect(status).toBe(200);
    if (outcome === 'allowed') {
      expect(body.errors).toBeUndefined();
      expect(body.data).toBeTruthy();
    } else {
      expect(body.errors?.map((error) => error.extensions?.code)).toContain(outcome);
      // Refused means refused: no data leaks beside the error.
      expect(JSON.stringify(body.data ?? null)).not.toMatch(/PrivateFilesZip|SiteInfo|matrix-/);
    }
  });

  it('reads the username from preferred_username before sub, and compares it exactly', async () => {
    const upper = await userToken({ preferred_username: 'ALICE' });
    const { body } = await gateway.graphql(
      '{ privateFilesZip(site: "local", username: "alice") { __typename } }',
      undefined,
      {
        authorization: `Bearer ${upper}`,
      },
    );
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('lets alice download what she was given, through the link alone', async () => {
    const { body } = await gateway.graphql<{ privateFilesZip: { downloadUrl: string } }>(
      '{ privateFilesZip(site: "local", username: "alice") { ... on PrivateFilesZip { downloadUrl } } }',
      undefined,
      { authorization: `Bearer ${bearer.alice}` },
    );
    const response = await fetch(body.data?.privateFilesZip.downloadUrl as string);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/zip');
    await response.arrayBuffer();
  });
});

describe('anonymous callers, when configured to be denied', () => {
  it('get nothing, not even the list of sites', async () => {
    const gateway = await startTestGateway({ auth: { anonymous: 'deny' } });
    try {
      const { body } = await gateway.graphql('{ externalSites { id } }', undefined, { authorization: '' });
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const admin = await gateway.graphql('{ externalSites { id } }');
      expect(admin.body.errors).toBeUndefined();
    } finally {
      await gateway.close();
    }
  });
});
