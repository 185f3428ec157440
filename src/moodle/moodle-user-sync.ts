import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type { SyncUserRequest, UserSynced, UserSyncTarget } from '../gateway/user-sync.js';
import type { MoodleParams } from './encode-params.js';
import { fail, ok, type SiteFailure, siteFailure } from './failures.js';
import { redactSecret } from './redact-secret.js';
import { createRestClient, DEFAULT_MAX_RESPONSE_BYTES } from './rest-client.js';
import type { SiteCredentials } from './site-endpoint.js';

/** The web-service functions a synchronization may call; the token's service must hold those it needs. */
export const USER_SYNC_FUNCTIONS = {
  getUsersByField: 'core_user_get_users_by_field',
  createUsers: 'core_user_create_users',
  updateUsers: 'core_user_update_users',
  getCoursesByField: 'core_course_get_courses_by_field',
  getUsersCourses: 'core_enrol_get_users_courses',
  enrol: 'enrol_manual_enrol_users',
  unenrol: 'enrol_manual_unenrol_users',
} as const;

export interface MoodleUserSyncOptions {
  readonly site: SiteCredentials;
  /** The process's undici Agent. */
  readonly dispatcher: Dispatcher;
  /**
   * Role names (what a synchronization asks for) → the site's role ids. They differ from site to
   * site (a default Moodle: manager 1, editingteacher 3, teacher 4, student 5), so they are configured.
   * @default {} (a synchronization naming a role fails for this site)
   */
  readonly roles?: Readonly<Record<string, number>>;
  /** All the calls of one synchronization together. @default 30_000 */
  readonly deadlineMs?: number;
  /** @default 4 MiB */
  readonly maxResponseBytes?: number;
  readonly logger?: Logger;
}

// Only what the synchronization reads; the rest of Moodle's user record is dropped.
const usersSchema = z.array(
  z.object({
    id: z.number().int(),
    username: z.string(),
    email: z.string().nullish(),
    firstname: z.string().nullish(),
    lastname: z.string().nullish(),
    fullname: z.string().nullish(),
  }),
);
const createdSchema = z.array(z.object({ id: z.number().int(), username: z.string() })).min(1);
const warningsSchema = z.object({
  warnings: z
    .array(
      z.object({
        item: z.string().nullish(),
        itemid: z.number().nullish(),
        warningcode: z.string(),
        message: z.string(),
      }),
    )
    .default([]),
});
const coursesSchema = z.object({
  courses: z.array(z.object({ id: z.number().int(), shortname: z.string() })),
});
const userCoursesSchema = z.array(z.object({ id: z.number().int(), shortname: z.string().nullish() }));

/** Moodle answers a weak password with its policy as HTML in place of the errorcode; a message wants text. */
export function policyText(html: string): string {
  return html
    .replace(/<\/(?:div|p|li)>|<br\s*\/?>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#0?39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

class Stop {
  constructor(readonly failure: SiteFailure) {}
}

/**
 * Pushes a user to a Moodle over its web services: looks the username up
 * (`core_user_get_users_by_field`), creates (`core_user_create_users`) or updates
 * (`core_user_update_users`, only when something differs), maps workspaces to course short names
 * (`core_course_get_courses_by_field`) and roles to the site's role ids, then enrols
 * (`enrol_manual_enrol_users`) in the courses the user is not in yet and unenrols
 * (`enrol_manual_unenrol_users`) from the others (`core_enrol_get_users_courses`). Everything is
 * looked up and checked before the first write, so a refusal of that kind writes nothing.
 */
export function createMoodleUserSync(options: MoodleUserSyncOptions): UserSyncTarget {
  const {
    site,
    dispatcher,
    roles = {},
    deadlineMs = 30_000,
    maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES,
    logger,
  } = options;
  const rest = createRestClient({ dispatcher, site, ...(logger && { logger }) });

  async function synchronize(
    request: SyncUserRequest,
    signal: AbortSignal | undefined,
    available: ReadonlySet<string> | null,
  ): Promise<UserSynced> {
    const deadlineAt = performance.now() + deadlineMs;

    async function call(wsfunction: string, params: MoodleParams): Promise<unknown> {
      const timeoutMs = Math.max(1, Math.round(deadlineAt - performance.now()));
      const result = await rest.call(wsfunction, params, {
        timeoutMs,
        maxResponseBytes,
        ...(signal && { signal }),
      });
      if (!result.ok) throw new Stop(result.failure);
      return result.value;
    }

    function read<T>(schema: z.ZodType<T>, value: unknown, wsfunction: string): T {
      const parsed = schema.safeParse(value);
      if (parsed.success) return parsed.data;
      throw new Stop(
        siteFailure(
          'BAD_RESPONSE',
          `Unexpected answer from the site: ${wsfunction} answered an unexpected shape`,
        ),
      );
    }

    function need(...names: string[]): void {
      const missing = available === null ? [] : names.filter((name) => !available.has(name));
      if (missing.length > 0) {
        throw new Stop(
          siteFailure(
            'FUNCTION_UNAVAILABLE',
            `${site.id} does not offer ${missing.join(', ')} to the gateway's token: add ${missing.length > 1 ? 'them' : 'it'} to its service`,
          ),
        );
      }
    }

    const wanted = request.workspaces.map(({ workspace, role }) => {
      const roleid = roles[role];
      if (roleid === undefined) {
        throw new Stop(
          siteFailure(
            'REMOTE_ERROR',
            `${site.id} has no role id for "${role}": add it to the site's roles in the gateway's configuration`,
          ),
        );
      }
      return { shortname: workspace, roleid };
    });
    need(
      USER_SYNC_FUNCTIONS.getUsersByField,
      ...(wanted.length > 0 ? [USER_SYNC_FUNCTIONS.getCoursesByField, USER_SYNC_FUNCTIONS.enrol] : []),
    );

    // Looked up first: Moodle's answer to a taken username, a taken e-mail and an invalid one is the same.
    const matches = read(
      usersSchema,
      await call(USER_SYNC_FUNCTIONS.getUsersByField, {
        field: 'username',
        values: [request.username],
      }).catch((error: unknown) => {
        // Moodle refuses a username its cleaning (lower case, trimmed) would change.
        if (error instanceof Stop && error.failure.remoteErrorCode === 'invalidparameter') {
          throw new Stop(
            siteFailure(
              'REMOTE_ERROR',
              `The site refused the username ${JSON.stringify(request.username)} (invalidparameter): Moodle usernames are lower case, without surrounding spaces`,
              { remoteErrorCode: 'invalidparameter' },
            ),
          );
        }
        throw error;
      }),
      USER_SYNC_FUNCTIONS.getUsersByField,
    );
    const existing = matches.find((user) => user.username === request.username) ?? null;
    if (!existing && matches.length > 0) {
      throw new Stop(
        siteFailure(
          'REMOTE_ERROR',
          `Moodle usernames are lower case: the site has "${matches[0]?.username}", not ${JSON.stringify(request.username)}`,
        ),
      );
    }

    const shortnames = [...new Set(wanted.map((entry) => entry.shortname))];
    const courseIds = new Map<string, number>();
    await Promise.all(
      shortnames.map(async (shortname) => {
        const { courses } = read(
          coursesSchema,
          await call(USER_SYNC_FUNCTIONS.getCoursesByField, { field: 'shortname', value: shortname }),
          USER_SYNC_FUNCTIONS.getCoursesByField,
        );
        const course = courses.find((c) => c.shortname === shortname);
        if (!course) {
          throw new Stop(
            siteFailure('REMOTE_ERROR', `${site.id} has no course with the short name "${shortname}"`),
          );
        }
        courseIds.set(shortname, course.id);
      }),
    );
    const wantedCourses = new Set(courseIds.values());

    let current: { id: number; shortname?: string | null | undefined }[] = [];
    if (existing) {
      need(USER_SYNC_FUNCTIONS.getUsersCourses);
      current = read(
        userCoursesSchema,
        await call(USER_SYNC_FUNCTIONS.getUsersCourses, { userid: existing.id }),
        USER_SYNC_FUNCTIONS.getUsersCourses,
      );
    }
    const enrolledIn = new Set(current.map((course) => course.id));
    const toUnenrol = current.filter((course) => !wantedCourses.has(course.id));
    const toEnrol = wanted
      .map(({ shortname, roleid }) => ({ courseid: courseIds.get(shortname) as number, roleid }))
      .filter(({ courseid }) => !enrolledIn.has(courseid));
    const profileDiffers = existing !== null && differs(existing, request);
    const update = existing !== null && (profileDiffers || request.updatePassword);
    need(
      ...(existing ? [] : [USER_SYNC_FUNCTIONS.createUsers]),
      ...(update ? [USER_SYNC_FUNCTIONS.updateUsers] : []),
      ...(toUnenrol.length > 0 ? [USER_SYNC_FUNCTIONS.unenrol] : []),
    );

    let userId: number;
    if (existing) {
      userId = existing.id;
      if (update) await updateUser(existing.id);
    } else {
      userId = await createUser();
    }
    const created = existing === null;
    try {
      if (toUnenrol.length > 0) {
        await call(USER_SYNC_FUNCTIONS.unenrol, {
          enrolments: toUnenrol.map((course) => ({ userid: userId, courseid: course.id })),
        });
      }
      if (toEnrol.length > 0) {
        await call(USER_SYNC_FUNCTIONS.enrol, {
          enrolments: toEnrol.map(({ roleid, courseid }) => ({ roleid, userid: userId, courseid })),
        });
      }
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
      const failure = enrolmentFailure(error.failure, userId);
      const done = created ? `The user was created (id ${userId}), but` : 'The profile is up to date, but';
      throw new Stop({ ...failure, message: `${done} the enrolments failed: ${failure.message}` });
    }
    return { userId, created, changed: created || update || toEnrol.length > 0 || toUnenrol.length > 0 };

    async function createUser(): Promise<number> {
      try {
        const answer = await call(USER_SYNC_FUNCTIONS.createUsers, {
          users: [
            {
              username: request.username,
              firstname: request.firstName,
              lastname: request.lastName,
              email: request.email,
              password: request.password,
              auth: 'manual',
            },
          ],
        });
        return read(createdSchema, answer, USER_SYNC_FUNCTIONS.createUsers)[0]?.id as number;
      } catch (error) {
        if (!(error instanceof Stop)) throw error;
        if (error.failure.remoteErrorCode === 'invalidparameter')
          throw new Stop(await whyCreateRefused(error.failure));
        throw new Stop(passwordFailure(error.failure));
      }
    }

    async function updateUser(id: number): Promise<void> {
      let answer: unknown;
      try {
        answer = await call(USER_SYNC_FUNCTIONS.updateUsers, {
          users: [
            {
              id,
              firstname: request.firstName,
              lastname: request.lastName,
              email: request.email,
              ...(request.updatePassword && { password: request.password }),
            },
          ],
        });
      } catch (error) {
        if (!(error instanceof Stop)) throw error;
        throw new Stop(passwordFailure(error.failure));
      }
      // Moodle answers an unknown id, a taken or an invalid e-mail with a warning, not an error.
      const [warning] = read(warningsSchema, answer, USER_SYNC_FUNCTIONS.updateUsers).warnings;
      if (warning?.warningcode === 'invaliduserid') {
        throw new Stop(
          siteFailure(
            'USER_NOT_FOUND',
            `The user (id ${id}) went away on the site during the synchronization`,
          ),
        );
      }
      if (warning) {
        throw new Stop(
          siteFailure(
            'REMOTE_ERROR',
            `The site refused the update (${warning.warningcode}): ${warning.message}`,
            {
              remoteErrorCode: warning.warningcode,
            },
          ),
        );
      }
    }

    /** `invalidparameter` says nothing more; asking by e-mail tells a taken address from an invalid value. */
    async function whyCreateRefused(failure: SiteFailure): Promise<SiteFailure> {
      const refused = `The site refused to create ${JSON.stringify(request.username)} (invalidparameter)`;
      let likely: string;
      try {
        const sameEmail = read(
          usersSchema,
          await call(USER_SYNC_FUNCTIONS.getUsersByField, { field: 'email', values: [request.email] }),
          USER_SYNC_FUNCTIONS.getUsersByField,
        );
        likely =
          sameEmail.length > 0
            ? `the e-mail address is already used by another account (id ${sameEmail[0]?.id})`
            : request.username !== request.username.toLowerCase()
              ? 'Moodle usernames are lower case'
              : 'the e-mail address is probably not valid there, or the username has characters the site refuses';
      } catch {
        likely =
          'the e-mail address is taken or not valid there, or the username has characters the site refuses';
      }
      return siteFailure('REMOTE_ERROR', `${refused}: ${likely}`, {
        remoteErrorCode: 'invalidparameter',
        cause: failure.cause,
      });
    }
  }

  return {
    deadlineMs,
    async syncUser(request, callOptions = {}) {
      callOptions.signal?.throwIfAborted();
      let available: ReadonlySet<string> | null = null;
      if (callOptions.siteInfo) {
        const info = await callOptions.siteInfo();
        if (!info.ok) return info;
        available = new Set(info.value.functions.map((fn) => fn.name));
      }
      try {
        return ok(await synchronize(request, callOptions.signal, available));
      } catch (error) {
        if (!(error instanceof Stop)) throw error;
        return fail(redactSecret(error.failure, request.password));
      }
    },
  };
}

function differs(existing: z.infer<typeof usersSchema>[number], request: SyncUserRequest): boolean {
  // Some sites send firstname and lastname, others only the full name.
  const names =
    typeof existing.firstname === 'string' && typeof existing.lastname === 'string'
      ? existing.firstname !== request.firstName || existing.lastname !== request.lastName
      : existing.fullname !== `${request.firstName} ${request.lastName}`;
  return names || existing.email !== request.email;
}

function passwordFailure(failure: SiteFailure): SiteFailure {
  const code = failure.remoteErrorCode ?? '';
  if (!code.includes('<')) return failure;
  return siteFailure('REMOTE_ERROR', `The site refused the password: ${policyText(code)}`, {
    remoteErrorCode: 'passwordpolicy',
  });
}

function enrolmentFailure(failure: SiteFailure, userId: number): SiteFailure {
  if (failure.remoteErrorCode === 'wsusercannotassign') {
    const said = (failure.cause as { message?: unknown } | undefined)?.message;
    return siteFailure(
      'ACCESS_DENIED',
      `the gateway's account may not assign this role there (wsusercannotassign)${typeof said === 'string' ? `: ${said}` : ''}`,
      { remoteErrorCode: 'wsusercannotassign' },
    );
  }
  if ((failure.cause as { exception?: unknown } | undefined)?.exception === 'TypeError') {
    return siteFailure('USER_NOT_FOUND', `the site does not know the user id ${userId}`);
  }
  return failure;
}
