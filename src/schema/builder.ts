import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import type { GraphQLContext } from './context.js';

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    ID: { Input: string; Output: string };
    File: { Input: File; Output: never };
  };
  AuthScopes: {
    listSites: boolean;
    siteDetails: boolean;
    /** Holds when the caller may read the private files of this username. */
    filesOf: string;
    syncUsers: boolean;
    admin: boolean;
    /** Holds when the caller may manage the sites of this tenant. */
    manageSitesOf: string;
    manageTenants: boolean;
  };
}>({
  defaultFieldNullability: false,
  plugins: [ScopeAuthPlugin],
  scopeAuth: {
    // The rules themselves live in src/auth/policy.ts; these scopes only name them.
    authScopes: ({ caller, policy }) => ({
      listSites: policy.canListSites(caller),
      siteDetails: policy.canSeeSiteDetails(caller),
      filesOf: (username: string) => policy.canReadFilesOf(caller, username),
      syncUsers: policy.canSyncUsers(caller),
      admin: policy.canAdminister(caller),
      manageSitesOf: (tenant: string) => policy.canManageSitesOf(caller, tenant),
      manageTenants: policy.canManageTenants(caller),
    }),
    unauthorizedError: (_parent, { caller }) =>
      caller.role === 'anonymous'
        ? new GraphQLError('this needs credentials: send Authorization: Bearer <token>', {
            extensions: { code: 'UNAUTHENTICATED' },
          })
        : new GraphQLError('you are not allowed to do this', { extensions: { code: 'FORBIDDEN' } }),
  },
});

builder.queryType({});
builder.mutationType({});
