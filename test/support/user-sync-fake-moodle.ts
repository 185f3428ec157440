import { createServer, type IncomingMessage } from 'node:http';
import { moodleBodies } from './fault-injector.js';
import { listenOnLoopback } from './loopback-server.js';

/**
 * A small stateful Moodle on 127.0.0.1 speaking the provisioning functions of MOODLE-PROTOCOL.md with
 * the exact bodies a Moodle 4.5 answers, recording the form fields of every call it receives.
 */

export const FAKE_MOODLE_TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed';

/** What Moodle 4.5 answers a password shorter than its policy: the policy HTML in place of the errorcode. */
const WEAK_PASSWORD_POLICY =
  '<div>Passwords must be at least 8 characters long.</div><div>Passwords must have at least 1 digit(s).</div>';
export const weakPasswordBody = JSON.stringify({
  exception: 'core\\exception\\moodle_exception',
  errorcode: WEAK_PASSWORD_POLICY,
  message: `error/${WEAK_PASSWORD_POLICY}`,
});

export const ALL_USER_SYNC_FUNCTIONS = [
  'core_webservice_get_site_info',
  'core_user_get_users_by_field',
  'core_user_create_users',
  'core_user_update_users',
  'core_course_get_courses_by_field',
  'core_enrol_get_users_courses',
  'enrol_manual_enrol_users',
  'enrol_manual_unenrol_users',
] as const;

export interface FakeMoodleUser {
  readonly id: number;
  username: string;
  firstname: string;
  lastname: string;
  email: string;
  password: string;
  auth: string;
}

export interface FakeCourse {
  readonly id: number;
  readonly shortname: string;
  readonly fullname: string;
}

export interface RecordedCall {
  readonly wsfunction: string;
  /** Every form field but `wstoken`, names kept as sent (`users[0][username]`). */
  readonly fields: Readonly<Record<string, string>>;
}

export interface FakeMoodle {
  readonly url: string;
  readonly token: string;
  /** Every web-service call received, oldest first. */
  readonly calls: RecordedCall[];
  readonly users: Map<number, FakeMoodleUser>;
  readonly courses: FakeCourse[];
  /** userid → courseid → role ids. */
  readonly enrolments: Map<number, Map<number, Set<number>>>;
  /** The functions of the token's service (what site info lists). */
  readonly functions: Set<string>;
  /** Role ids the web-service account may not assign (`wsusercannotassign`). */
  readonly unassignableRoles: Set<number>;
  /** Runs as a call arrives, before it is answered (a user deleted meanwhile, …). */
  beforeCall: ((call: RecordedCall) => void) | null;
  addUser(user: Omit<FakeMoodleUser, 'id' | 'auth' | 'password'> & { password?: string }): FakeMoodleUser;
  enrol(userId: number, courseId: number, roleId: number): void;
  /** `{courseShortname: [roleids]}` of a user. */
  enrolmentsOf(userId: number): Record<string, number[]>;
  /** The calls that wrote something. */
  writes(): RecordedCall[];
  close(): Promise<void>;
}

const WRITE_FUNCTIONS = new Set([
  'core_user_create_users',
  'core_user_update_users',
  'enrol_manual_enrol_users',
  'enrol_manual_unenrol_users',
]);

/** `users[0][username]` fields → `[{username: …}]`. */
function rows(fields: Record<string, string>, name: string): Record<string, string>[] {
  const list: Record<string, string>[] = [];
  for (const [key, value] of Object.entries(fields)) {
    const match = new RegExp(`^${name}\\[(\\d+)\\]\\[([a-z]+)\\]$`).exec(key);
    if (!match) continue;
    const index = Number(match[1]);
    list[index] ??= {};
    (list[index] as Record<string, string>)[match[2] as string] = value;
  }
  return list.filter(Boolean);
}

function values(fields: Record<string, string>, name: string): string[] {
  return Object.entries(fields)
    .filter(([key]) => new RegExp(`^${name}\\[\\d+\\]$`).test(key))
    .map(([, value]) => value);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeMoodle(
  options: { readonly functions?: readonly string[]; readonly courses?: readonly string[] } = {},
): Promise<FakeMoodle> {
  const users = new Map<number, FakeMoodleUser>();
  const courses: FakeCourse[] = (options.courses ?? ['C001', 'C002', 'C003']).map((shortname, index) => ({
    id: index + 2,
    shortname,
    fullname: `Course ${shortname}`,
  }));
  const enrolments = new Map<number, Map<number, Set<number>>>();
  const functions = new Set<string>(options.functions ?? ALL_USER_SYNC_FUNCTIONS);
  const unassignableRoles = new Set<number>();
  const calls: RecordedCall[] = [];
  let nextUserId = 4;

  const userRecord = (user: FakeMoodleUser) => ({
    id: user.id,
    username: user.username,
    fullname: `${user.firstname} ${user.lastname}`,
    email: user.email,
    department: '',
    firstaccess: 0,
    lastaccess: 0,
    auth: user.auth,
    suspended: false,
    confirmed: true,
    lang: 'en',
    theme: '',
    timezone: '99',
    mailformat: 1,
    trackforums: 0,
    profileimageurlsmall: 'http://127.0.0.1/theme/image.php/boost/core/1/u/f2',
    profileimageurl: 'http://127.0.0.1/theme/image.php/boost/core/1/u/f1',
  });
  const courseRecord = (course: FakeCourse) => ({
    id: course.id,
    fullname: course.fullname,
    displayname: course.fullname,
    shortname: course.shortname,
    categoryid: 1,
    summary: '',
    summaryformat: 1,
    visible: 1,
  });
  const emailTaken = (email: string, exceptId?: number) =>
    [...users.values()].some((u) => u.id !== exceptId && u.email.toLowerCase() === email.toLowerCase());
  const validEmail = (email: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email);
  const enrolmentsFor = (userId: number) => {
    const map = enrolments.get(userId) ?? new Map<number, Set<number>>();
    enrolments.set(userId, map);
    return map;
  };

  function answer(wsfunction: string, fields: Record<string, string>): string {
    switch (wsfunction) {
      case 'core_webservice_get_site_info': {
        const info = JSON.parse(moodleBodies.siteInfo) as Record<string, unknown>;
        info.functions = [...functions].sort().map((name) => ({ name, version: '2024100700' }));
        return JSON.stringify(info);
      }
      case 'core_user_get_users_by_field': {
        const field = fields.field;
        const asked = values(fields, 'values');
        if (field === 'username') {
          // Moodle cleans each value as PARAM_USERNAME and refuses one the cleaning changes.
          if (asked.some((value) => value !== value.trim().toLowerCase()))
            return moodleBodies.invalidParameter;
          return JSON.stringify(
            [...users.values()].filter((u) => asked.includes(u.username)).map(userRecord),
          );
        }
        if (field === 'email') {
          const lower = asked.map((value) => value.toLowerCase());
          return JSON.stringify(
            [...users.values()].filter((u) => lower.includes(u.email.toLowerCase())).map(userRecord),
          );
        }
        return moodleBodies.invalidParameter;
      }
      case 'core_user_create_users': {
        const list = rows(fields, 'users');
        for (const user of list) {
          const { username = '', email = '', password = '' } = user;
          const clash = [...users.values()].some((u) => u.username === username);
          if (clash || username !== username.toLowerCase() || emailTaken(email) || !validEmail(email)) {
            return moodleBodies.invalidParameter;
          }
          if (password.length < 8 || !/\d/.test(password)) return weakPasswordBody;
        }
        const created = list.map((user) => {
          const record: FakeMoodleUser = {
            id: nextUserId++,
            username: user.username ?? '',
            firstname: user.firstname ?? '',
            lastname: user.lastname ?? '',
            email: user.email ?? '',
            password: user.password ?? '',
            auth: user.auth ?? 'manual',
          };
          users.set(record.id, record);
          return { id: record.id, username: record.username };
        });
        return JSON.stringify(created);
      }
      case 'core_user_update_users': {
        const warnings: unknown[] = [];
        for (const patch of rows(fields, 'users')) {
          const user = users.get(Number(patch.id));
          if (!user) {
            warnings.push({
              item: 'user',
              itemid: Number(patch.id),
              warningcode: 'invaliduserid',
              message: 'Invalid user ID',
            });
            continue;
          }
          if (patch.password !== undefined && (patch.password.length < 8 || !/\d/.test(patch.password))) {
            return weakPasswordBody;
          }
          if (patch.firstname !== undefined) user.firstname = patch.firstname;
          if (patch.lastname !== undefined) user.lastname = patch.lastname;
          if (patch.email !== undefined) user.email = patch.email;
          if (patch.password !== undefined) user.password = patch.password;
        }
        return JSON.stringify({ warnings });
      }
      case 'core_course_get_courses_by_field': {
        const found = courses.filter((c) => fields.field === 'shortname' && c.shortname === fields.value);
        return JSON.stringify({ courses: found.map(courseRecord), warnings: [] });
      }
      case 'core_enrol_get_users_courses': {
        const userId = Number(fields.userid);
        if (!users.has(userId)) return moodleBodies.invalidParameter;
        const mine = [...(enrolments.get(userId)?.keys() ?? [])];
        return JSON.stringify(
          courses
            .filter((c) => mine.includes(c.id))
            .map((c) => ({ ...courseRecord(c), enrolledusercount: 1 })),
        );
      }
      case 'enrol_manual_enrol_users': {
        const list = rows(fields, 'enrolments');
        for (const e of list) {
          const courseId = Number(e.courseid);
          const roleId = Number(e.roleid);
          if (!courses.some((c) => c.id === courseId)) return moodleBodies.invalidParameter;
          if (unassignableRoles.has(roleId)) {
            return JSON.stringify({
              exception: 'core\\exception\\moodle_exception',
              errorcode: 'wsusercannotassign',
              message: `You don't have the permission to assign this role (${roleId}) to this user (${e.userid}) in this course (${courseId}).`,
            });
          }
          if (!users.has(Number(e.userid))) return moodleBodies.typeError;
        }
        for (const e of list) {
          const roles = enrolmentsFor(Number(e.userid));
          const set = roles.get(Number(e.courseid)) ?? new Set<number>();
          set.add(Number(e.roleid));
          roles.set(Number(e.courseid), set);
        }
        return 'null';
      }
      case 'enrol_manual_unenrol_users': {
        const list = rows(fields, 'enrolments');
        for (const e of list) {
          if (!courses.some((c) => c.id === Number(e.courseid))) return moodleBodies.courseNotFound;
        }
        for (const e of list) enrolments.get(Number(e.userid))?.delete(Number(e.courseid));
        return 'null';
      }
      default:
        return moodleBodies.functionNotFound;
    }
  }

  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const form = Object.fromEntries(new URLSearchParams(body));
    const headers = {
      'Content-type': 'application/json',
      'Cache-Control': 'private, must-revalidate, pre-check=0, post-check=0, max-age=0',
      'Access-Control-Allow-Origin': '*',
    };
    if (url.pathname !== '/webservice/rest/server.php' || req.method !== 'POST') {
      res.writeHead(404, { 'Content-Type': 'text/html' }).end('<html><title>Not found</title></html>');
      return;
    }
    const { wstoken, wsfunction = '', ...fields } = form;
    calls.push({ wsfunction, fields });
    fake.beforeCall?.({ wsfunction, fields });
    let reply: string;
    if (wstoken !== FAKE_MOODLE_TOKEN) reply = moodleBodies.invalidToken;
    else if (!ALL_USER_SYNC_FUNCTIONS.includes(wsfunction as never)) reply = moodleBodies.functionNotFound;
    else if (!functions.has(wsfunction)) reply = moodleBodies.accessException;
    else reply = answer(wsfunction, fields);
    res.writeHead(200, headers).end(reply);
  });
  const listening = await listenOnLoopback(server);

  const fake: FakeMoodle = {
    url: listening.url,
    token: FAKE_MOODLE_TOKEN,
    calls,
    users,
    courses,
    enrolments,
    functions,
    unassignableRoles,
    beforeCall: null,
    addUser(user) {
      const record: FakeMoodleUser = { id: nextUserId++, auth: 'manual', password: 'Secret-123', ...user };
      users.set(record.id, record);
      return record;
    },
    enrol(userId, courseId, roleId) {
      const roles = enrolmentsFor(userId);
      roles.set(courseId, (roles.get(courseId) ?? new Set()).add(roleId));
    },
    enrolmentsOf(userId) {
      const out: Record<string, number[]> = {};
      for (const [courseId, roles] of enrolments.get(userId) ?? []) {
        const course = courses.find((c) => c.id === courseId);
        out[course?.shortname ?? String(courseId)] = [...roles].sort();
      }
      return out;
    },
    writes: () => calls.filter((call) => WRITE_FUNCTIONS.has(call.wsfunction)),
    close: listening.close,
  };
  return fake;
}
