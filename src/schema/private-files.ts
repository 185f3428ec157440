import { callerLabel } from '../auth/caller.js';
import { fanOut } from '../gateway/fan-out.js';
import type { PrivateFilesZip } from '../gateway/private-files.js';
import type { ZipDescriptor } from '../gateway/site.js';
import type { RegisteredSite } from '../gateway/site-registry.js';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { badUserInput, notFound } from './errors.js';
import { SiteFailureRef, type SiteFailureValue, siteFailureValue } from './site-failure.js';

const RemoteDraftFileRef = builder.objectRef<ZipDescriptor>('RemoteDraftFile').implement({
  description: 'The zip as the remote site stored it: a file in a draft area of the web-service account.',
  fields: (t) => ({
    contextid: t.exposeInt('contextid'),
    component: t.exposeString('component'),
    filearea: t.exposeString('filearea'),
    itemid: t.exposeInt('itemid'),
    filepath: t.exposeString('filepath'),
    filename: t.exposeString('filename'),
    relativepath: t.exposeString('relativepath'),
  }),
});

const PrivateFilesZipRef = builder.objectRef<PrivateFilesZip>('PrivateFilesZip').implement({
  description: "A zip of one user's private files on one site, ready to download for a short while.",
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'downloadUrl' in value,
  fields: (t) => ({
    site: t.exposeID('site'),
    username: t.exposeString('username'),
    filename: t.exposeString('filename', { description: 'The name to save the file as.' }),
    downloadUrl: t.exposeString('downloadUrl', {
      description: 'A signed gateway link that streams the zip; it needs no header and expires at expiresAt.',
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    remote: t.field({ type: RemoteDraftFileRef, resolve: (zip) => zip.remote }),
  }),
});

const PrivateFilesZipResult = builder.unionType('PrivateFilesZipResult', {
  types: [PrivateFilesZipRef, SiteFailureRef],
});

/** The enabled sites of the caller's tenant that it sees listed: hidden ones only for those who manage them. */
export function listedSites(context: GraphQLContext): RegisteredSite[] {
  const unlisted = context.policy.canSeeUnlistedSites(context.caller);
  return context.registry.list(context.tenant).filter((entry) => unlisted || entry.visible !== false);
}

const MAX_USERNAME_LENGTH = 100;

/** Usernames go to Moodle exactly as given (Moodle matches them exactly), so they are checked, never trimmed. */
export function checkUsername(username: string): void {
  if (username.length === 0) throw badUserInput('username', 'must not be empty');
  if (username.length > MAX_USERNAME_LENGTH) {
    throw badUserInput('username', `must be at most ${MAX_USERNAME_LENGTH} characters`);
  }
  if (/\p{Cc}/u.test(username)) throw badUserInput('username', 'must not contain control characters');
}

async function zipFor(
  entry: RegisteredSite,
  username: string,
  context: GraphQLContext,
): Promise<PrivateFilesZip | SiteFailureValue> {
  const result = await context.privateFiles.requestZip({
    entry,
    username,
    loaders: context.loaders,
    baseUrl: context.baseUrl,
  });
  if (!result.ok) return siteFailureValue(entry, result.failure);
  // A link is a capability: who asked for it is on record.
  context.logger.info(
    {
      caller: callerLabel(context.caller),
      tenant: entry.tenant,
      site: entry.id,
      username,
      expiresAt: result.value.expiresAt,
    },
    'download link issued',
  );
  return result.value;
}

builder.queryFields((t) => ({
  privateFilesZip: t.field({
    type: PrivateFilesZipResult,
    description: "Asks one site to zip a user's private files; answers a short-lived download link.",
    args: { site: t.arg.id({ required: true }), username: t.arg.string({ required: true }) },
    authScopes: (_root, { username }) => ({ filesOf: username }),
    resolve: async (_root, { site, username }, context) => {
      checkUsername(username);
      const entry = context.registry.get(context.tenant, site);
      if (!entry) throw notFound('site', `no site "${site}"`);
      if (!entry.enabled) throw notFound('site', `the site "${site}" is disabled`);
      return zipFor(entry, username, context);
    },
  }),
  privateFilesZips: t.field({
    type: [PrivateFilesZipResult],
    description: 'The same, from every enabled site at once: one result per site, in priority order.',
    args: { username: t.arg.string({ required: true }) },
    authScopes: (_root, { username }) => ({ filesOf: username }),
    resolve: async (_root, { username }, context) => {
      checkUsername(username);
      const outcomes = await fanOut(
        listedSites(context),
        async (entry) => ({ ok: true, value: await zipFor(entry, username, context) }) as const,
        { deadlineMs: (entry) => entry.timeouts.siteInfoMs + entry.timeouts.zipMs, logger: context.logger },
      );
      return outcomes.map(({ entry, result }) =>
        result.ok ? result.value : siteFailureValue(entry, result.failure),
      );
    },
  }),
}));
