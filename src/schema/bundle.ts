import { GraphQLError } from 'graphql';
import { callerLabel } from '../auth/caller.js';
import type { PrivateFilesBundleLink } from '../gateway/bundle-requests.js';
import { builder } from './builder.js';
import { checkUsername, listedSites } from './private-files.js';

/* The all-sites bundle: one zip holding each site's zip, and a README.txt naming those that failed. */

const PrivateFilesBundleRef = builder.objectRef<PrivateFilesBundleLink>('PrivateFilesBundle').implement({
  description:
    "One zip of a user's private files from every listed site: the sites are asked when the link is followed, and their zips streamed in as they arrive.",
  fields: (t) => ({
    username: t.exposeString('username'),
    filename: t.exposeString('filename', { description: 'The name to save the bundle as.' }),
    downloadUrl: t.exposeString('downloadUrl', {
      description:
        'A signed gateway link that streams the bundle; it needs no header and expires at expiresAt.',
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    sites: t.exposeIDList('sites', { description: 'The sites it asks, in order.' }),
  }),
});

builder.queryFields((t) => ({
  privateFilesBundle: t.field({
    type: PrivateFilesBundleRef,
    description:
      'A link to one zip holding the zip of every enabled site the caller sees (each named by its site), plus a README.txt listing the sites that failed and why.',
    args: { username: t.arg.string({ required: true }) },
    authScopes: (_root, { username }) => ({ filesOf: username }),
    resolve: async (_root, { username }, context) => {
      checkUsername(username);
      if (!context.bundles) {
        throw new GraphQLError('the all-sites bundle is not offered by this gateway', {
          extensions: { code: 'BUNDLE_DISABLED' },
        });
      }
      const link = await context.bundles.request({
        tenant: context.tenant,
        username,
        entries: listedSites(context),
        baseUrl: context.baseUrl,
      });
      context.logger.info(
        { caller: callerLabel(context.caller), tenant: context.tenant, username, sites: link.sites },
        'bundle link issued',
      );
      return link;
    },
  }),
}));
