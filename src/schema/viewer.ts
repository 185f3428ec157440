import type { Caller } from '../auth/caller.js';
import { builder } from './builder.js';

/* Who the caller is, as the gateway understood its credentials: what a page needs to greet and guide it. */

const ViewerRoleEnum = builder.enumType('ViewerRole', {
  values: {
    ANONYMOUS: { value: 'anonymous' },
    USER: { value: 'user', description: 'A person, from a JWT.' },
    SERVICE: { value: 'service', description: 'An application acting for its users (an API key).' },
    TENANT_ADMIN: { value: 'tenant-admin', description: "Manages its own tenant's sites (an API key)." },
    ADMIN: { value: 'admin', description: 'Manages everything, every tenant included (an API key).' },
  } as const,
});

const ViewerRef = builder.objectRef<Caller>('Viewer').implement({
  description: 'The caller, as its credentials say. Never a credential.',
  fields: (t) => ({
    role: t.field({ type: ViewerRoleEnum, resolve: (caller) => caller.role }),
    tenant: t.exposeID('tenant'),
    username: t.string({
      nullable: true,
      description: "A user's username; null for keys and anonymous callers.",
      resolve: (caller) => (caller.role === 'user' ? caller.username : null),
    }),
    actsForOthers: t.boolean({
      description: 'Whether the caller may retrieve the files of any user of its tenant.',
      resolve: (caller, _args, { policy }) => policy.canReadFilesOfAnyone(caller),
    }),
    managesSites: t.boolean({
      description: "Whether the caller manages its tenant's sites.",
      resolve: (caller, _args, { policy }) => policy.canManageSitesOf(caller, caller.tenant),
    }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({ type: ViewerRef, resolve: (_root, _args, { caller }) => caller }),
}));
