/** Who is asking. Every authorization decision is made on this, in `policy.ts`. */
export type Caller =
  | { readonly role: 'anonymous'; readonly tenant: string; readonly ip: string }
  | { readonly role: 'user'; readonly tenant: string; readonly username: string; readonly ip: string }
  | {
      readonly role: 'service' | 'admin' | 'tenant-admin';
      readonly tenant: string;
      readonly keyId: string;
      readonly ip: string;
    };

export type Role = Caller['role'];

/** A name for logs and rate limits: never a credential. */
export function callerLabel(caller: Caller): string {
  switch (caller.role) {
    case 'anonymous':
      return `anonymous@${caller.ip}`;
    case 'user':
      return `user:${caller.username}`;
    default:
      return `${caller.role}:${caller.keyId}`;
  }
}
