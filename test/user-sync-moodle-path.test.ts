import type { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SyncUserRequest, UserSynced, UserSyncTarget } from '../src/gateway/user-sync.js';
import { createAgent } from '../src/moodle/agent.js';
import type { Result, SiteFailure } from '../src/moodle/failures.js';
import { createMoodleUserSync } from '../src/moodle/moodle-user-sync.js';
import { createRemoteSite } from '../src/moodle/remote-site.js';
import { type FakeMoodle, startFakeMoodle } from './support/user-sync-fake-moodle.js';

const ROLES = { manager: 1, editingteacher: 3, student: 5 };
const PASSWORD = 'Sup3r-secret-pass';

let agent: Agent;
let moodle: FakeMoodle;
let target: UserSyncTarget;
let siteInfo: () => ReturnType<ReturnType<typeof createRemoteSite>['getSiteInfo']>;

beforeAll(() => {
  agent = createAgent({ connectTimeoutMs: 2_000 });
});
afterAll(() => agent.destroy());

beforeEach(async () => {
  moodle = await startFakeMoodle();
  const site = { id: 'peer', url: moodle.url, token: moodle.token };
  target = createMoodleUserSync({ site, dispatcher: agent, roles: ROLES, deadlineMs: 5_000 });
  const remote = createRemoteSite({ site, dispatcher: agent });
  siteInfo = () => remote.getSiteInfo();
});
afterEach(() => moodle.close());

function request(overrides: Partial<SyncUserRequest> = {}): SyncUserRequest {
  return {
    username: 'carol',
    firstName: 'Carol',
    lastName: 'Example',
    email: 'carol@example.com',
    password: PASSWORD,
    workspaces: [],
    updatePassword: false,
    ...overrides,
  };
}

const sync = (overrides: Partial<SyncUserRequest> = {}) => target.syncUser(request(overrides), { siteInfo });

function syncedOf(result: Result<UserSynced>): UserSynced {
  if (!result.ok)
    throw new Error(`expected a success, got ${result.failure.code}: ${result.failure.message}`);
  return result.value;
}

function failureOf(result: Result<UserSynced>): SiteFailure {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.failure;
}

const callsTo = (wsfunction: string) => moodle.calls.filter((call) => call.wsfunction === wsfunction);

describe('the Moodle path', () => {
  it("creates a missing user and enrols them, with Moodle's own parameter names", async () => {
    const synced = syncedOf(await sync({ workspaces: [{ workspace: 'C001', role: 'student' }] }));
    expect(synced).toEqual({ userId: expect.any(Number), created: true, changed: true });
    expect(moodle.calls.map((call) => call.wsfunction)).toEqual([
      'core_webservice_get_site_info',
      'core_user_get_users_by_field',
      'core_course_get_courses_by_field',
      'core_user_create_users',
      'enrol_manual_enrol_users',
    ]);
    expect(callsTo('core_user_get_users_by_field')[0]?.fields).toEqual({
      moodlewsrestformat: 'json',
      field: 'username',
      'values[0]': 'carol',
    });
    expect(callsTo('core_course_get_courses_by_field')[0]?.fields).toEqual({
      moodlewsrestformat: 'json',
      field: 'shortname',
      value: 'C001',
    });
    expect(callsTo('core_user_create_users')[0]?.fields).toEqual({
      moodlewsrestformat: 'json',
      'users[0][username]': 'carol',
      'users[0][firstname]': 'Carol',
      'users[0][lastname]': 'Example',
      'users[0][email]': 'carol@example.com',
      'users[0][password]': PASSWORD,
      'users[0][auth]': 'manual',
    });
    expect(callsTo('enrol_manual_enrol_users')[0]?.fields).toEqual({
      moodlewsrestformat: 'json',
      'enrolments[0][roleid]': '5',
      'enrolments[0][userid]': String(synced.userId),
      'enrolments[0][courseid]': '2',
    });
    expect(moodle.enrolmentsOf(synced.userId)).toEqual({ C001: [5] });
  });

  it('updates only what differs, unenrols from the courses not listed and enrols in the new ones', async () => {
    const carol = moodle.addUser({
      username: 'carol',
      firstname: 'Caro',
      lastname: 'Example',
      email: 'carol@example.com',
    });
    moodle.enrol(carol.id, 3, 5);
    const synced = syncedOf(
      await sync({
        workspaces: [
          { workspace: 'C001', role: 'editingteacher' },
          { workspace: 'C003', role: 'student' },
        ],
      }),
    );
    expect(synced).toEqual({ userId: carol.id, created: false, changed: true });
    expect(callsTo('core_user_update_users')[0]?.fields).toEqual({
      moodlewsrestformat: 'json',
      'users[0][id]': String(carol.id),
      'users[0][firstname]': 'Carol',
      'users[0][lastname]': 'Example',
      'users[0][email]': 'carol@example.com',
    });
    expect(callsTo('core_enrol_get_users_courses')[0]?.fields).toEqual({
      moodlewsrestformat: 'json',
      userid: String(carol.id),
    });
    expect(callsTo('enrol_manual_unenrol_users')[0]?.fields).toEqual({
      moodlewsrestformat: 'json',
      'enrolments[0][userid]': String(carol.id),
      'enrolments[0][courseid]': '3',
    });
    expect(callsTo('enrol_manual_enrol_users')[0]?.fields).toEqual({
      moodlewsrestformat: 'json',
      'enrolments[0][roleid]': '3',
      'enrolments[0][userid]': String(carol.id),
      'enrolments[0][courseid]': '2',
      'enrolments[1][roleid]': '5',
      'enrolments[1][userid]': String(carol.id),
      'enrolments[1][courseid]': '4',
    });
    expect(moodle.enrolmentsOf(carol.id)).toEqual({ C001: [3], C003: [5] });
    expect(moodle.users.get(carol.id)).toMatchObject({ firstname: 'Carol', password: 'Secret-123' });
  });

  it('changes nothing the second time the same synchronization runs, and says so', async () => {
    const asked = { workspaces: [{ workspace: 'C001', role: 'student' }] };
    const first = syncedOf(await sync(asked));
    const writes = moodle.writes().length;
    const second = syncedOf(await sync(asked));
    expect(second).toEqual({ userId: first.userId, created: false, changed: false });
    expect(moodle.writes()).toHaveLength(writes);
  });

  it('sends the password to an existing user only when updatePassword is set', async () => {
    const carol = moodle.addUser({
      username: 'carol',
      firstname: 'Carol',
      lastname: 'Example',
      email: 'carol@example.com',
    });
    expect(syncedOf(await sync())).toMatchObject({ changed: false });
    expect(callsTo('core_user_update_users')).toHaveLength(0);
    expect(syncedOf(await sync({ updatePassword: true }))).toMatchObject({ changed: true });
    expect(callsTo('core_user_update_users')[0]?.fields['users[0][password]']).toBe(PASSWORD);
    expect(moodle.users.get(carol.id)?.password).toBe(PASSWORD);
  });

  it('unenrols from everything when no workspace is listed', async () => {
    const carol = moodle.addUser({
      username: 'carol',
      firstname: 'Carol',
      lastname: 'Example',
      email: 'carol@example.com',
    });
    moodle.enrol(carol.id, 2, 5);
    moodle.enrol(carol.id, 3, 3);
    expect(syncedOf(await sync())).toMatchObject({ changed: true });
    expect(callsTo('enrol_manual_unenrol_users')[0]?.fields).toEqual({
      moodlewsrestformat: 'json',
      'enrolments[0][userid]': String(carol.id),
      'enrolments[0][courseid]': '2',
      'enrolments[1][userid]': String(carol.id),
      'enrolments[1][courseid]': '3',
    });
    expect(moodle.enrolmentsOf(carol.id)).toEqual({});
  });
});

describe("Moodle's refusals, explained", () => {
  it('says a taken e-mail is the likely reason of an invalidparameter on creation', async () => {
    moodle.addUser({ username: 'other', firstname: 'O', lastname: 'Ther', email: 'Carol@Example.com' });
    const failure = failureOf(await sync());
    expect(failure).toMatchObject({ code: 'REMOTE_ERROR', remoteErrorCode: 'invalidparameter' });
    expect(failure.message).toContain('the e-mail address is already used by another account');
    expect(callsTo('core_user_get_users_by_field').at(-1)?.fields).toMatchObject({
      field: 'email',
      'values[0]': 'carol@example.com',
    });
  });

  it('says an invalid e-mail is the likely reason when no account holds it', async () => {
    const failure = failureOf(await sync({ email: 'carol-at-example' }));
    expect(failure.message).toContain('the e-mail address is probably not valid there');
  });

  it('says Moodle usernames are lower case when the site refuses an upper-case one', async () => {
    const failure = failureOf(await sync({ username: 'Carol' }));
    expect(failure.code).toBe('REMOTE_ERROR');
    expect(failure.message).toContain('"Carol"');
    expect(failure.message).toContain('lower case');
    expect(moodle.writes()).toEqual([]);
  });

  it("turns a weak password's policy HTML into plain text, without the password", async () => {
    const failure = failureOf(await sync({ password: 'short' }));
    expect(failure.code).toBe('REMOTE_ERROR');
    expect(failure.message).toBe(
      'The site refused the password: Passwords must be at least 8 characters long. Passwords must have at least 1 digit(s).',
    );
    expect(JSON.stringify(failure.message)).not.toContain('short');
  });

  it('reads the invaliduserid warning of an update as USER_NOT_FOUND', async () => {
    const carol = moodle.addUser({
      username: 'carol',
      firstname: 'Old',
      lastname: 'Name',
      email: 'carol@example.com',
    });
    moodle.beforeCall = (call) => {
      if (call.wsfunction === 'core_user_update_users') moodle.users.delete(carol.id);
    };
    expect(failureOf(await sync())).toMatchObject({ code: 'USER_NOT_FOUND' });
  });

  it('answers ACCESS_DENIED for wsusercannotassign, keeping what Moodle said', async () => {
    moodle.unassignableRoles.add(1);
    const failure = failureOf(await sync({ workspaces: [{ workspace: 'C002', role: 'manager' }] }));
    expect(failure).toMatchObject({ code: 'ACCESS_DENIED', remoteErrorCode: 'wsusercannotassign' });
    expect(failure.message).toMatch(/^The user was created \(id \d+\), but the enrolments failed/);
    expect(failure.message).toContain("You don't have the permission to assign this role (1)");
  });

  it('names a course short name the site does not have, and writes nothing', async () => {
    const failure = failureOf(await sync({ workspaces: [{ workspace: 'NOPE', role: 'student' }] }));
    expect(failure).toMatchObject({ code: 'REMOTE_ERROR' });
    expect(failure.message).toContain('no course with the short name "NOPE"');
    expect(moodle.writes()).toEqual([]);
  });

  it('names a role the configuration does not map, and asks the site nothing more', async () => {
    const failure = failureOf(await sync({ workspaces: [{ workspace: 'C001', role: 'teacher' }] }));
    expect(failure.message).toContain('no role id for "teacher"');
    expect(moodle.calls.map((call) => call.wsfunction)).toEqual(['core_webservice_get_site_info']);
  });

  it.each([
    ['core_user_create_users', {}],
    ['enrol_manual_enrol_users', { workspaces: [{ workspace: 'C001', role: 'student' }] }],
  ])(
    'answers FUNCTION_UNAVAILABLE naming %s when the token’s service lacks it, and writes nothing',
    async (name, asked) => {
      moodle.functions.delete(name);
      const failure = failureOf(await sync(asked));
      expect(failure.code).toBe('FUNCTION_UNAVAILABLE');
      expect(failure.message).toContain(name);
      expect(moodle.writes()).toEqual([]);
    },
  );

  it('answers FUNCTION_UNAVAILABLE naming enrol_manual_unenrol_users before updating anything', async () => {
    const carol = moodle.addUser({
      username: 'carol',
      firstname: 'Old',
      lastname: 'Name',
      email: 'carol@example.com',
    });
    moodle.enrol(carol.id, 2, 5);
    moodle.functions.delete('enrol_manual_unenrol_users');
    const failure = failureOf(await sync());
    expect(failure).toMatchObject({ code: 'FUNCTION_UNAVAILABLE' });
    expect(failure.message).toContain('enrol_manual_unenrol_users');
    expect(moodle.writes()).toEqual([]);
  });

  it("passes on the site info's failure, such as an invalid token", async () => {
    const stranger = createRemoteSite({
      site: { id: 'peer', url: moodle.url, token: 'wrong' },
      dispatcher: agent,
    });
    const failure = failureOf(await target.syncUser(request(), { siteInfo: () => stranger.getSiteInfo() }));
    expect(failure.code).toBe('INVALID_TOKEN');
  });
});
