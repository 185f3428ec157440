/** A synchronization request once its shape is known to be right (values are checked later). */
export interface SyncRequest {
  readonly username: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly password: string;
  /** `{code, role}` pairs, in the order sent. */
  readonly workspaces: readonly { readonly code: string; readonly role: string }[];
  /** The user to update; absent to create one. */
  readonly userId?: number;
}

const REQUIRED = ['username', 'firstName', 'lastName', 'email', 'password'] as const;

function present(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** `42` or `"42"`; anything else is not an id. */
function parseUserId(value: unknown): number | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return null;
}

/**
 * Reads the JSON body's fields; `null` when it is a `Bad Request`: a required field missing, empty
 * or not a string, `userId` not an id, or `workspaces` not a list of one-entry `{code: role}` objects.
 */
export function parseSyncRequest(body: Readonly<Record<string, unknown>>): SyncRequest | null {
  for (const field of REQUIRED) if (!present(body[field])) return null;
  const userId = parseUserId(body.userId);
  if (userId === null) return null;
  const workspaces: { code: string; role: string }[] = [];
  const listed = body.workspaces ?? [];
  if (!Array.isArray(listed)) return null;
  for (const item of listed) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return null;
    const entries = Object.entries(item);
    if (entries.length !== 1) return null;
    const [code, role] = entries[0] as [string, unknown];
    if (code === '' || !present(role)) return null;
    workspaces.push({ code, role });
  }
  return {
    username: body.username as string,
    firstName: body.firstName as string,
    lastName: body.lastName as string,
    email: body.email as string,
    password: body.password as string,
    workspaces,
    ...(userId === undefined ? {} : { userId }),
  };
}
