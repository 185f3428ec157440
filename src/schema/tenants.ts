import type { TenantView } from '../gateway/site-hub.js';
import { builder } from './builder.js';
import { hubCall, hubOf, SiteSourceEnum } from './registry.js';

/* Tenants: several institutions behind one gateway, each seeing only its own sites. Global admins only. */

const TenantRef = builder.objectRef<TenantView>('Tenant').implement({
  description: 'An institution behind the gateway: its callers see and use only its sites.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name', { nullable: true }),
    source: t.field({
      type: SiteSourceEnum,
      description: 'CONFIG: named by the configuration (its sites, its API keys), not removable here.',
      resolve: (tenant) => tenant.source,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', nullable: true }),
    siteCount: t.int({
      description: 'Its sites, configured and registered, disabled ones included.',
      resolve: (tenant, _args, { registry }) => registry.list(tenant.id, { includeDisabled: true }).length,
    }),
  }),
});

const RemovedTenantRef = builder.objectRef<{ id: string; removedSites: number }>('RemovedTenant').implement({
  fields: (t) => ({ id: t.exposeID('id'), removedSites: t.exposeInt('removedSites') }),
});

builder.queryFields((t) => ({
  tenants: t.field({
    type: [TenantRef],
    description: 'Every tenant: `default`, those the configuration names, those created here.',
    authScopes: { manageTenants: true },
    resolve: (_root, _args, context) => hubOf(context).tenants(),
  }),
}));

builder.mutationFields((t) => ({
  createTenant: t.field({
    type: TenantRef,
    args: {
      id: t.arg.id({ required: true, description: 'A slug: lower-case letters, digits, "-" or "_".' }),
      name: t.arg.string(),
    },
    authScopes: { manageTenants: true },
    resolve: (_root, { id, name }, context) => {
      const hub = hubOf(context);
      return hubCall(() => hub.createTenant({ id, name: name ?? null }));
    },
  }),
  removeTenant: t.field({
    type: RemovedTenantRef,
    description: 'Removes a created tenant. One that still has sites is refused, unless removeSites.',
    args: {
      id: t.arg.id({ required: true }),
      removeSites: t.arg.boolean({
        defaultValue: false,
        description: 'Remove its registered sites with it.',
      }),
    },
    authScopes: { manageTenants: true },
    resolve: async (_root, { id, removeSites }, context) => {
      const hub = hubOf(context);
      const removedSites = await hubCall(() => hub.removeTenant(id, { removeSites: removeSites ?? false }));
      return { id, removedSites };
    },
  }),
}));
