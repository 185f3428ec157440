/**
 * Every answer of the remote-user-synchronization endpoint, as Claroline's plugin sends them:
 * a status and a short plain-text body. Success is 200 with the user's id as the body.
 */
export const USER_SYNC_ANSWERS = {
  /** `client` + `token` + caller address match no security token. */
  accessDenied: { status: 403, body: 'Access Denied' },
  /** A required field is missing or of the wrong type, or the body is not a JSON object. */
  badRequest: { status: 400, body: 'Bad Request' },
  /** `userId` names no user. */
  notFound: { status: 404, body: 'Not found' },
  /** A value is refused: invalid, taken (username, e-mail), or an unknown workspace or role. */
  userEditionError: { status: 400, body: 'User edition error' },
} as const;

export type UserSyncRefusal = (typeof USER_SYNC_ANSWERS)[keyof typeof USER_SYNC_ANSWERS];

/**
 * Our addition to the contract, on every 200: whether the call wrote anything (`true`) or found the
 * platform already holding exactly this user (`false`). Claroline's clients ignore it.
 */
export const USER_SYNC_CHANGED_HEADER = 'x-remote-user-sync-changed';
