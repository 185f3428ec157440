import { Writable } from 'node:stream';
import { pino } from 'pino';
import { request } from 'undici';
import { USER_LOOKUP_PATH, USER_SYNC_PATH } from '../../src/provider/user-sync/create-user-sync-routes.js';
import { createUserSyncAdmin, type UserSyncAdmin } from '../../src/provider/user-sync/user-sync-admin.js';
import {
  type LaunchedProvider,
  type LaunchProviderOptions,
  launchRestProvider,
} from './rest-provider-launcher.js';

export interface SyncProvider {
  readonly launched: LaunchedProvider;
  readonly url: string;
  readonly admin: UserSyncAdmin;
  /** The security token's client name and clear token, allowed from 127.0.0.1. */
  readonly client: string;
  readonly token: string;
  /** Every line the provider logged. */
  readonly logLines: string[];
  close(): Promise<void>;
}

export interface EndpointAnswer {
  readonly status: number;
  readonly text: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/**
 * A seeded standalone provider (see rest-provider-launcher.ts) plus a security token for client
 * `portal` from 127.0.0.1 and three workspaces: `W1` and `W2` with Claroline's default roles, and
 * `OWNED`, owned by bob, where bob is a manager.
 */
export async function launchSyncProvider(options: LaunchProviderOptions = {}): Promise<SyncProvider> {
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const launched = await launchRestProvider({ logger: pino({ level: 'debug' }, destination), ...options });
  const admin = createUserSyncAdmin({ store: launched.provider.store });
  const { token } = await admin.createSecurityToken({ clientName: 'portal', ipAddress: '127.0.0.1' });
  await admin.createWorkspace({ code: 'W1', name: 'Workspace one' });
  await admin.createWorkspace({ code: 'W2', name: 'Workspace two' });
  await admin.createWorkspace({ code: 'OWNED', name: "Bob's own", owner: 'bob' });
  await admin.register({ username: 'bob', workspace: 'OWNED', role: 'manager' });
  return {
    launched,
    url: launched.url,
    admin,
    client: 'portal',
    token,
    logLines,
    close: () => launched.close(),
  };
}

/** POSTs a body (JSON unless a string is given with its own content type) to the endpoint. */
export async function postSync(
  url: string,
  body: unknown,
  { path = USER_SYNC_PATH, contentType = 'application/json', headers = {} } = {} as {
    path?: string;
    contentType?: string;
    headers?: Record<string, string>;
  },
): Promise<EndpointAnswer> {
  const response = await request(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.statusCode, text: await response.body.text(), headers: response.headers };
}

export const postLookup = (url: string, body: unknown) => postSync(url, body, { path: USER_LOOKUP_PATH });
