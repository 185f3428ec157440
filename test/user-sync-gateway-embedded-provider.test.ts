import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/auth/authenticate.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

const SERVICE_KEY = 'embedded-service-key-0123456789';

let dataDir: string;
let gateway: TestGateway;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'user-sync-embedded-'));
  gateway = await startTestGateway({
    auth: { apiKeys: [{ id: 'portal', sha256: sha256Hex(SERVICE_KEY), role: 'service' }] },
    provider: { enabled: true, dataDir, seedDemo: true, federateAs: 'local' },
  });
});

afterAll(async () => {
  await gateway?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function data<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const { body } = await gateway.graphql<T>(query, variables);
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data as T;
}

async function errorOf(query: string, headers?: Record<string, string>) {
  const { body } = await gateway.graphql(query, undefined, headers);
  return body.errors?.[0]?.extensions;
}

const SYNC = `mutation Sync($input: SyncUserInput!) {
  syncUser(input: $input, sites: ["local"]) {
    __typename
    ... on UserSynced { site userId created changed }
    ... on SiteFailure { code message }
  }
}`;

const person = (username: string, workspaces: { workspace: string; role: string }[]) => ({
  username,
  firstName: username[0]?.toUpperCase() + username.slice(1),
  lastName: 'Example',
  email: `${username}@example.com`,
  password: 'embedded secret',
  workspaces,
});

const registrationsOf = async (code: string) =>
  (
    await data<{ providerWorkspace: { registrations: { username: string; role: string }[] } }>(
      `{ providerWorkspace(code: "${code}") { registrations { username role } } }`,
    )
  ).providerWorkspace.registrations.map((r) => `${r.username}:${r.role}`);

describe('the embedded provider, federated as a provider site', () => {
  it('manages workspaces and registrations through mutations, listed by queries', async () => {
    const created = await data<{ createProviderWorkspace: Record<string, unknown> }>(
      'mutation { createProviderWorkspace(input: { code: "MATH", name: "Maths", owner: "alice" }) { code name owner roles } }',
    );
    expect(created.createProviderWorkspace).toEqual({
      code: 'MATH',
      name: 'Maths',
      owner: 'alice',
      roles: ['collaborator', 'manager'],
    });
    await data(
      'mutation { registerProviderWorkspaceUser(username: "alice", workspace: "MATH", role: "manager") { role } }',
    );
    await data(
      'mutation { registerProviderWorkspaceUser(username: "bob", workspace: "MATH", role: "collaborator") { role } }',
    );
    expect(await registrationsOf('MATH')).toEqual(['alice:manager', 'bob:collaborator']);
    const listed = await data<{ providerWorkspaces: { code: string }[] }>('{ providerWorkspaces { code } }');
    expect(listed.providerWorkspaces.map((w) => w.code)).toContain('MATH');
    const bobs = await data<{ providerWorkspaceRegistrations: { workspace: string }[] }>(
      '{ providerWorkspaceRegistrations(username: "bob") { workspace } }',
    );
    expect(bobs.providerWorkspaceRegistrations).toEqual([{ workspace: 'MATH' }]);
  });

  it('synchronizes users to itself through its own endpoint, keeping the owner in the owned workspace', async () => {
    const alice = await data<{ syncUser: Record<string, unknown>[] }>(SYNC, {
      input: { ...person('alice', []), firstName: 'Alice' },
    });
    expect(alice.syncUser).toEqual([
      { __typename: 'UserSynced', site: 'local', userId: expect.any(Number), created: false, changed: true },
    ]);
    const zoe = await data<{ syncUser: Record<string, unknown>[] }>(SYNC, {
      input: person('zoe', [{ workspace: 'MATH', role: 'collaborator' }]),
    });
    expect(zoe.syncUser[0]).toMatchObject({ __typename: 'UserSynced', created: true, changed: true });
    expect(await registrationsOf('MATH')).toEqual(['alice:manager', 'bob:collaborator', 'zoe:collaborator']);
    const again = await data<{ syncUser: Record<string, unknown>[] }>(SYNC, {
      input: person('zoe', [{ workspace: 'MATH', role: 'collaborator' }]),
    });
    expect(again.syncUser[0]).toMatchObject({ created: false, changed: false });
  });

  it('unregisters a user, and drops the registrations of a role the workspace loses', async () => {
    const removed = await data<{ unregisterProviderWorkspaceUser: number }>(
      'mutation { unregisterProviderWorkspaceUser(username: "bob", workspace: "MATH") }',
    );
    expect(removed.unregisterProviderWorkspaceUser).toBe(1);
    await data(
      'mutation { updateProviderWorkspace(code: "MATH", input: { roles: ["manager"], name: "Mathematics" }) { code } }',
    );
    expect(await registrationsOf('MATH')).toEqual(['alice:manager']);
  });

  it('shows a security token once, then only masked', async () => {
    const created = await data<{
      createUserSyncSecurityToken: { token: string; details: Record<string, unknown> };
    }>(
      'mutation { createUserSyncSecurityToken(input: { clientName: "portal", ipAddress: "10.0.0.0/8" }) { token details { clientName ipAddress masked } } }',
    );
    const { token, details } = created.createUserSyncSecurityToken;
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(details).toEqual({
      clientName: 'portal',
      ipAddress: '10.0.0.0/8',
      masked: `••••…${token.slice(-4)}`,
    });
    const listed = await gateway.graphql('{ userSyncSecurityTokens { clientName masked lastUsedAt } }');
    expect(JSON.stringify(listed.body)).not.toContain(token);
    const names = (listed.body.data as { userSyncSecurityTokens: { clientName: string }[] })
      .userSyncSecurityTokens;
    expect(names.map((t) => t.clientName)).toEqual(['moodle-gateway', 'portal']);
    expect(await data('mutation { deleteUserSyncSecurityToken(clientName: "portal") }')).toEqual({
      deleteUserSyncSecurityToken: true,
    });
  });

  it.each([
    [
      'a workspace code that is taken',
      'mutation { createProviderWorkspace(input: { code: "MATH", name: "x" }) { code } }',
      'CONFLICT',
    ],
    [
      'a role the workspace lacks',
      'mutation { registerProviderWorkspaceUser(username: "bob", workspace: "MATH", role: "guest") { role } }',
      'BAD_USER_INPUT',
    ],
    [
      'an unknown owner',
      'mutation { createProviderWorkspace(input: { code: "ART", name: "Art", owner: "nobody" }) { code } }',
      'NOT_FOUND',
    ],
    [
      'an unknown security token',
      'mutation { deleteUserSyncSecurityToken(clientName: "nobody") }',
      'NOT_FOUND',
    ],
    [
      'an address that is none',
      'mutation { createUserSyncSecurityToken(input: { clientName: "x", ipAddress: "somewhere" }) { token } }',
      'BAD_USER_INPUT',
    ],
  ])('refuses %s with a coded error', async (_case, query, code) => {
    expect(await errorOf(query)).toMatchObject({ code });
  });

  it('keeps the management to admins', async () => {
    const asService = { authorization: `Bearer ${SERVICE_KEY}` };
    expect(await errorOf('{ providerWorkspaces { code } }', asService)).toMatchObject({ code: 'FORBIDDEN' });
    expect(await errorOf('{ userSyncSecurityTokens { clientName } }', asService)).toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(
      await errorOf('mutation { deleteProviderWorkspace(code: "MATH") }', { authorization: '' }),
    ).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await data('mutation { deleteProviderWorkspace(code: "MATH") }')).toEqual({
      deleteProviderWorkspace: true,
    });
  });
});
