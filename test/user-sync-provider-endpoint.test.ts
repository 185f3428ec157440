import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../src/provider/password.js';
import { launchSyncProvider, postLookup, postSync, type SyncProvider } from './support/user-sync-provider.js';

let provider: SyncProvider;
let counter = 0;

beforeAll(async () => {
  provider = await launchSyncProvider();
});

afterAll(() => provider.close());

/** A complete, valid body for a fresh user; `overrides` replace or (as `undefined`) remove fields. */
function body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  const merged: Record<string, unknown> = {
    client: provider.client,
    token: provider.token,
    username: `user${counter}`,
    firstName: 'Carol',
    lastName: 'Example',
    email: `user${counter}@example.com`,
    password: 'correct horse battery',
    ...overrides,
  };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  return merged;
}

async function registrationsOf(username: string): Promise<string[]> {
  const list = await provider.admin.listRegistrations({ username });
  return list.map((r) => `${r.workspace}:${r.role}`).sort();
}

describe('security', () => {
  it.each([
    ['an unknown client', { client: 'someone-else' }],
    ['a wrong token', { token: 'not-the-token-at-all' }],
    ['no client', { client: undefined }],
    ['no token', { token: undefined }],
    ['a client that is not a string', { client: 42 }],
  ])('answers 403 Access Denied for %s, before reading anything else', async (_case, overrides) => {
    const answer = await postSync(provider.url, body({ ...overrides, username: undefined }));
    expect(answer).toMatchObject({ status: 403, text: 'Access Denied' });
    expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('answers 403 Access Denied when the right client and token come from another address', async () => {
    const { token } = await provider.admin.createSecurityToken({
      clientName: 'faraway',
      ipAddress: '10.1.2.3',
    });
    const answer = await postSync(provider.url, body({ client: 'faraway', token }));
    expect(answer).toMatchObject({ status: 403, text: 'Access Denied' });
  });

  it('accepts a token whose address is a range holding the caller', async () => {
    const { token } = await provider.admin.createSecurityToken({
      clientName: 'lan',
      ipAddress: '127.0.0.0/8',
    });
    expect(await postSync(provider.url, body({ client: 'lan', token }))).toMatchObject({ status: 200 });
  });
});

describe('the request', () => {
  it.each(['username', 'firstName', 'lastName', 'email', 'password'])(
    'answers 400 Bad Request when %s is missing, empty or not a string',
    async (field) => {
      for (const value of [undefined, '', 12, null]) {
        const answer = await postSync(provider.url, body({ [field]: value }));
        expect(answer, `${field} = ${JSON.stringify(value)}`).toMatchObject({
          status: 400,
          text: 'Bad Request',
        });
      }
    },
  );

  it.each([
    ['not JSON', '{"client": '],
    ['a JSON list', '[]'],
    ['form-encoded', 'client=portal&token=x'],
  ])('answers 400 Bad Request for a body that is %s', async (_case, raw) => {
    const contentType = raw.startsWith('client=') ? 'application/x-www-form-urlencoded' : 'application/json';
    expect(await postSync(provider.url, raw, { contentType })).toMatchObject({
      status: 400,
      text: 'Bad Request',
    });
  });

  it.each([
    ['an object instead of a list', { W1: 'manager' }],
    ['an entry with two workspaces', [{ W1: 'manager', W2: 'manager' }]],
    ['an entry with no workspace', [{}]],
    ['a role that is not a string', [{ W1: 3 }]],
  ])('answers 400 Bad Request for workspaces given as %s', async (_case, workspaces) => {
    expect(await postSync(provider.url, body({ workspaces }))).toMatchObject({
      status: 400,
      text: 'Bad Request',
    });
  });

  it.each([
    ['a negative number', -1],
    ['a fraction', 1.5],
    ['a word', 'abc'],
  ])('answers 400 Bad Request for a userId that is %s', async (_case, userId) => {
    expect(await postSync(provider.url, body({ userId }))).toMatchObject({
      status: 400,
      text: 'Bad Request',
    });
  });
});

describe('creating and updating', () => {
  it('creates a user when no userId is given and answers 200 with the new id', async () => {
    const sent = body({
      username: 'carol',
      email: 'carol@example.com',
      workspaces: [{ W1: 'collaborator' }],
    });
    const answer = await postSync(provider.url, sent);
    expect(answer.status).toBe(200);
    expect(answer.text).toMatch(/^\d+$/);
    expect(answer.headers['x-remote-user-sync-changed']).toBe('true');
    expect(answer.headers['set-cookie']).toBeUndefined();
    const user = await provider.launched.provider.store.users.getByUsername('carol');
    expect(user).toMatchObject({ id: Number(answer.text), firstname: 'Carol', lastname: 'Example' });
    expect(await verifyPassword('correct horse battery', user?.passwordHash ?? '')).toBe(true);
    expect(await registrationsOf('carol')).toEqual(['W1:collaborator']);
    expect(
      await postLookup(provider.url, { client: provider.client, token: provider.token, username: 'carol' }),
    ).toMatchObject({
      status: 200,
      text: answer.text,
    });
  });

  it('updates the user named by userId, renaming them if asked, and answers 200 with the id', async () => {
    const created = await postSync(provider.url, body({ username: 'dave' }));
    const userId = Number(created.text);
    const answer = await postSync(
      provider.url,
      body({
        userId,
        username: 'david',
        firstName: 'David',
        email: 'david@example.com',
        password: 'another secret',
      }),
    );
    expect(answer).toMatchObject({ status: 200, text: String(userId) });
    expect(answer.headers['x-remote-user-sync-changed']).toBe('true');
    const user = await provider.launched.provider.store.users.getById(userId);
    expect(user).toMatchObject({ username: 'david', firstname: 'David', email: 'david@example.com' });
    expect(await verifyPassword('another secret', user?.passwordHash ?? '')).toBe(true);
  });

  it('accepts the userId as a string of digits', async () => {
    const created = await postSync(provider.url, body());
    const answer = await postSync(provider.url, body({ userId: created.text }));
    expect(answer).toMatchObject({ status: 200, text: created.text });
  });

  it('answers 404 Not found for a userId that names no user, and creates nobody', async () => {
    const before = (await provider.launched.provider.store.users.list()).length;
    expect(await postSync(provider.url, body({ userId: 999_999 }))).toMatchObject({
      status: 404,
      text: 'Not found',
    });
    expect(await provider.launched.provider.store.users.list()).toHaveLength(before);
  });

  it.each([
    ['a username that is taken', { username: 'alice' }],
    ['an e-mail that is taken, in any case', { email: 'ALICE@example.com' }],
    ['an upper-case username', { username: 'Erin' }],
    ['a username with spaces', { username: 'erin smith' }],
    ['an invalid e-mail', { email: 'not-an-address' }],
    ['a password shorter than 8 characters', { password: 'short' }],
    ['an unknown workspace code', { workspaces: [{ NOPE: 'manager' }] }],
    ['a role the workspace does not have', { workspaces: [{ W1: 'owner' }] }],
  ])('answers 400 User edition error for %s, and creates nobody', async (_case, overrides) => {
    const before = (await provider.launched.provider.store.users.list()).length;
    const answer = await postSync(provider.url, body(overrides));
    expect(answer).toMatchObject({ status: 400, text: 'User edition error' });
    expect(await provider.launched.provider.store.users.list()).toHaveLength(before);
  });

  it('answers 400 User edition error when an update would take another user’s username or e-mail', async () => {
    const created = await postSync(provider.url, body({ username: 'frank' }));
    for (const clash of [{ username: 'alice' }, { email: 'bob@example.com' }]) {
      const answer = await postSync(
        provider.url,
        body({ userId: Number(created.text), username: 'frank', ...clash }),
      );
      expect(answer).toMatchObject({ status: 400, text: 'User edition error' });
    }
    expect(await provider.launched.provider.store.users.getById(Number(created.text))).toMatchObject({
      username: 'frank',
    });
  });

  it('changes nothing at all when one workspace of the list is unknown: one transaction', async () => {
    const sent = body({ username: 'grace', workspaces: [{ W1: 'collaborator' }] });
    const created = await postSync(provider.url, sent);
    const before = await provider.launched.provider.store.users.getById(Number(created.text));
    const answer = await postSync(provider.url, {
      ...sent,
      userId: Number(created.text),
      firstName: 'Changed',
      workspaces: [{ W2: 'manager' }, { NOPE: 'manager' }],
    });
    expect(answer).toMatchObject({ status: 400, text: 'User edition error' });
    expect(await provider.launched.provider.store.users.getById(Number(created.text))).toEqual(before);
    expect(await registrationsOf('grace')).toEqual(['W1:collaborator']);
  });
});

describe('workspaces', () => {
  it('registers the user in exactly the listed workspaces with the listed roles', async () => {
    const sent = body({ username: 'heidi', workspaces: [{ W1: 'collaborator' }, { W2: 'manager' }] });
    const created = await postSync(provider.url, sent);
    expect(await registrationsOf('heidi')).toEqual(['W1:collaborator', 'W2:manager']);

    await postSync(provider.url, {
      ...sent,
      userId: Number(created.text),
      workspaces: [{ W2: 'collaborator' }, { W2: 'manager' }],
    });
    expect(await registrationsOf('heidi')).toEqual(['W2:collaborator', 'W2:manager']);

    await postSync(provider.url, {
      ...sent,
      userId: Number(created.text),
      workspaces: [{ W2: 'collaborator' }],
    });
    expect(await registrationsOf('heidi')).toEqual(['W2:collaborator']);
  });

  it('unregisters the user from every workspace when workspaces is absent or empty', async () => {
    const sent = body({ username: 'ivan', workspaces: [{ W1: 'collaborator' }, { W2: 'manager' }] });
    const created = await postSync(provider.url, sent);
    await postSync(provider.url, { ...sent, userId: Number(created.text), workspaces: [] });
    expect(await registrationsOf('ivan')).toEqual([]);

    await postSync(provider.url, { ...sent, userId: Number(created.text) });
    const { workspaces: _dropped, ...withoutWorkspaces } = sent;
    await postSync(provider.url, { ...withoutWorkspaces, userId: Number(created.text) });
    expect(await registrationsOf('ivan')).toEqual([]);
  });

  it('keeps the registrations of workspaces the user owns, listed or not', async () => {
    const bob = await provider.launched.provider.store.users.getByUsername('bob');
    const sent = {
      ...body({ userId: bob?.id, username: 'bob', firstName: 'Bob', email: 'bob@example.com' }),
      workspaces: [{ W1: 'collaborator' }],
    };
    expect(await postSync(provider.url, sent)).toMatchObject({ status: 200, text: String(bob?.id) });
    expect(await registrationsOf('bob')).toEqual(['OWNED:manager', 'W1:collaborator']);

    const { workspaces: _dropped, ...withoutWorkspaces } = sent;
    await postSync(provider.url, withoutWorkspaces);
    expect(await registrationsOf('bob')).toEqual(['OWNED:manager']);

    await postSync(provider.url, { ...sent, workspaces: [{ OWNED: 'collaborator' }] });
    expect(await registrationsOf('bob')).toEqual(['OWNED:collaborator', 'OWNED:manager']);
  });
});

describe('idempotence', () => {
  it('changes nothing the second time the same synchronization runs, and says so', async () => {
    const sent = body({ username: 'judy', workspaces: [{ W1: 'collaborator' }, { W2: 'manager' }] });
    const first = await postSync(provider.url, sent);
    expect(first.headers['x-remote-user-sync-changed']).toBe('true');
    const userId = Number(first.text);
    const store = provider.launched.provider.store;
    const userBefore = await store.users.getById(userId);
    const registrationsBefore = await store.registrations.list({ userId });
    const workspacesBefore = await store.workspaces.list();

    const second = await postSync(provider.url, { ...sent, userId });
    expect(second).toMatchObject({ status: 200, text: String(userId) });
    expect(second.headers['x-remote-user-sync-changed']).toBe('false');
    expect(await store.users.getById(userId)).toEqual(userBefore);
    expect(await store.registrations.list({ userId })).toEqual(registrationsBefore);
    expect(await store.workspaces.list()).toEqual(workspacesBefore);
  });

  it('says it changed something when only the password differs', async () => {
    const sent = body({ username: 'ken' });
    const userId = Number((await postSync(provider.url, sent)).text);
    const answer = await postSync(provider.url, { ...sent, userId, password: 'a brand new one' });
    expect(answer.headers['x-remote-user-sync-changed']).toBe('true');
  });
});

describe('the lookup', () => {
  it('answers 200 with the id of a username, 404 Not found for an unknown one', async () => {
    const alice = await provider.launched.provider.store.users.getByUsername('alice');
    const credentials = { client: provider.client, token: provider.token };
    expect(await postLookup(provider.url, { ...credentials, username: 'alice' })).toMatchObject({
      status: 200,
      text: String(alice?.id),
    });
    expect(await postLookup(provider.url, { ...credentials, username: 'ALICE' })).toMatchObject({
      status: 404,
      text: 'Not found',
    });
    expect(await postLookup(provider.url, { ...credentials })).toMatchObject({
      status: 400,
      text: 'Bad Request',
    });
    expect(
      await postLookup(provider.url, { client: provider.client, token: 'wrong', username: 'alice' }),
    ).toMatchObject({
      status: 403,
      text: 'Access Denied',
    });
  });
});

it('never writes a password or a token to the log', async () => {
  await postSync(provider.url, body({ password: 'a-password-to-spot-in-logs' }));
  await postSync(provider.url, body({ password: 'short' }));
  await postSync(provider.url, body({ token: 'wrong-token-to-spot-in-logs' }));
  const log = provider.logLines.join('\n');
  expect(log).toContain('remote user synchronized');
  expect(log).not.toContain('a-password-to-spot-in-logs');
  expect(log).not.toContain('correct horse battery');
  expect(log).not.toContain(provider.token);
  expect(log).not.toContain('wrong-token-to-spot-in-logs');
});
