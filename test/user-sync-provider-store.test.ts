import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreConflictError, StoreInvariantError } from '../src/provider/store/repository.js';
import type { RemoteUserWrite } from '../src/provider/store/user-sync-repository.js';
import { createTempStore, type TempStore } from './support/provider-temp-store.js';

describe('the provider store keeps what user synchronization needs', () => {
  let temp: TempStore;
  let now = 1_700_000_000_000;
  beforeEach(async () => {
    temp = await createTempStore({ clock: () => now });
  });
  afterEach(() => temp.dispose());

  const write = (overrides: Partial<RemoteUserWrite> = {}): RemoteUserWrite => ({
    userId: null,
    username: 'carol',
    firstname: 'Carol',
    lastname: 'Example',
    email: 'carol@example.com',
    passwordHash: 'scrypt$hash',
    registrations: [],
    ...overrides,
  });

  it('refuses a second security token for the same client name, and keeps only a hash of the token', async () => {
    const token = await temp.store.securityTokens.create({
      clientName: 'portal',
      ipAddress: '127.0.0.1',
      token: 'a-long-enough-token',
    });
    expect(token).toMatchObject({ clientName: 'portal', hint: 'oken', lastUsed: null });
    expect(JSON.stringify(token)).not.toContain('a-long-enough-token');
    await expect(
      temp.store.securityTokens.create({
        clientName: 'portal',
        ipAddress: '10.0.0.1',
        token: 'another-token-123',
      }),
    ).rejects.toBeInstanceOf(StoreConflictError);
  });

  it('drops the registrations of a role a workspace loses, and those of a deleted workspace', async () => {
    const user = await temp.store.users.create({ username: 'dora' });
    const workspace = await temp.store.workspaces.create({
      code: 'W',
      name: 'W',
      roles: ['collaborator', 'manager'],
    });
    await temp.store.registrations.add(workspace.id, user.id, 'collaborator');
    await temp.store.registrations.add(workspace.id, user.id, 'manager');
    await temp.store.workspaces.update(workspace.id, { roles: ['manager'] });
    expect((await temp.store.registrations.list({ userId: user.id })).map((r) => r.role)).toEqual([
      'manager',
    ]);
    await temp.store.workspaces.delete(workspace.id);
    expect(await temp.store.registrations.list({ userId: user.id })).toEqual([]);
  });

  it('registers a user once per role, and refuses a role the workspace does not have', async () => {
    const user = await temp.store.users.create({ username: 'eve' });
    const workspace = await temp.store.workspaces.create({ code: 'W', name: 'W', roles: ['manager'] });
    const first = await temp.store.registrations.add(workspace.id, user.id, 'manager');
    now += 60_000;
    expect(await temp.store.registrations.add(workspace.id, user.id, 'manager')).toEqual(first);
    await expect(temp.store.registrations.add(workspace.id, user.id, 'guest')).rejects.toBeInstanceOf(
      StoreInvariantError,
    );
  });

  it('leaves a workspace without an owner when its owner is deleted', async () => {
    const owner = await temp.store.users.create({ username: 'fay' });
    const workspace = await temp.store.workspaces.create({
      code: 'W',
      name: 'W',
      ownerUserId: owner.id,
      roles: ['manager'],
    });
    await temp.store.users.delete(owner.id);
    expect(await temp.store.workspaces.getById(workspace.id)).toMatchObject({ ownerUserId: null });
  });

  it('applies a synchronization in one transaction: a refusal leaves the user and the registrations as they were', async () => {
    await temp.store.workspaces.create({ code: 'W1', name: 'W1', roles: ['manager'] });
    const created = await temp.store.remoteUsers.apply(
      write({ registrations: [{ workspaceCode: 'W1', role: 'manager' }] }),
    );
    if (!created.ok) throw new Error(created.reason);
    const before = await temp.store.users.getById(created.user.id);
    const refused = await temp.store.remoteUsers.apply(
      write({
        userId: created.user.id,
        firstname: 'Changed',
        registrations: [{ workspaceCode: 'W1', role: 'missing-role' }],
      }),
    );
    expect(refused).toMatchObject({ ok: false, reason: 'unknown-role' });
    expect(await temp.store.users.getById(created.user.id)).toEqual(before);
    expect(await temp.store.registrations.list({ userId: created.user.id })).toHaveLength(1);
  });

  it('writes nothing and says so when the user already holds exactly what is asked', async () => {
    await temp.store.workspaces.create({ code: 'W1', name: 'W1', roles: ['manager'] });
    const asked = write({ registrations: [{ workspaceCode: 'W1', role: 'manager' }] });
    const created = await temp.store.remoteUsers.apply(asked);
    if (!created.ok) throw new Error(created.reason);
    now += 60_000;
    const again = await temp.store.remoteUsers.apply({
      ...asked,
      userId: created.user.id,
      passwordHash: undefined,
    });
    expect(again).toEqual({ ok: true, user: created.user, created: false, changed: false });
  });
});
