import { GraphQLError } from 'graphql';
import type { RecordedSiteInfo } from '../gateway/registry-store.js';
import { type SiteHub, SiteHubError, type SiteRegistration } from '../gateway/site-hub.js';
import type { RegisteredSite } from '../gateway/site-registry.js';
import type { Result } from '../moodle/failures.js';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { SiteFailureRef, type SiteFailureValue } from './site-failure.js';
import { ExternalSiteRef } from './sites.js';

/*
 * The site registry, run like a Moodle hub: admins register sites at run time beside the configured
 * ones. A tenant admin manages its own tenant's sites; a global admin names any tenant.
 */

export const SiteSourceEnum = builder.enumType('SiteSource', {
  description: 'Where a site (or a tenant) comes from.',
  values: {
    CONFIG: {
      value: 'config',
      description: 'The configuration: read-only here, changed in the configuration.',
    },
    REGISTRY: { value: 'registry', description: 'Registered at run time through the registry mutations.' },
  } as const,
});

const RecordedSiteInfoRef = builder.objectRef<RecordedSiteInfo>('RecordedSiteInfo').implement({
  description: 'What the site said of itself when it was registered, or when its token last changed.',
  fields: (t) => ({
    sitename: t.exposeString('sitename'),
    release: t.exposeString('release', { nullable: true }),
    version: t.exposeString('version', { nullable: true }),
    functions: t.stringList({ resolve: (info) => info.functions.map((fn) => fn.name) }),
    checkedAt: t.field({ type: 'DateTime', resolve: (info) => new Date(info.checkedAt) }),
  }),
});

const SiteRegistrationRef = builder.objectRef<SiteRegistration>('SiteRegistration').implement({
  description:
    "How a site came to be, for those who manage its tenant's sites. The token is only ever masked.",
  fields: (t) => ({
    source: t.field({ type: SiteSourceEnum, resolve: (registration) => registration.source }),
    readOnly: t.exposeBoolean('readOnly', {
      description: 'Configuration sites cannot be changed or removed through the registry.',
    }),
    maskedToken: t.exposeString('maskedToken', {
      nullable: true,
      description: 'The last characters of the token, to tell tokens apart; never the token.',
    }),
    timeoutMs: t.exposeInt('timeoutMs', {
      nullable: true,
      description: "The site-info deadline; null: the gateway's.",
    }),
    recorded: t.field({
      type: RecordedSiteInfoRef,
      nullable: true,
      resolve: (registration) => registration.recorded,
    }),
    registeredAt: t.expose('registeredAt', { type: 'DateTime', nullable: true }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', nullable: true }),
  }),
});

builder.objectFields(ExternalSiteRef, (t) => ({
  tenant: t.exposeID('tenant', { authScopes: { siteDetails: true } }),
  visible: t.boolean({
    authScopes: { siteDetails: true },
    description: 'Hidden sites are listed only for those who manage them; still reachable by id.',
    resolve: (entry) => entry.visible !== false,
  }),
  trusted: t.boolean({
    authScopes: { siteDetails: true },
    description:
      "Vouched for by the registry's admin: configuration sites are; registered ones once an admin says so.",
    resolve: (entry) => entry.trusted !== false,
  }),
  registration: t.field({
    type: SiteRegistrationRef,
    authScopes: (entry) => ({ manageSitesOf: entry.tenant }),
    resolve: (entry, _args, context) =>
      context.hub?.describe(entry.tenant, entry.id) ?? {
        tenant: entry.tenant,
        id: entry.id,
        source: 'config' as const,
        readOnly: true,
        maskedToken: null,
        timeoutMs: null,
        recorded: null,
        registeredAt: null,
        updatedAt: null,
      },
  }),
}));

const RegisterSiteResult = builder.unionType('RegisterSiteResult', {
  description: 'The site as registered, or why the site refused the call made before saving it.',
  types: [ExternalSiteRef, SiteFailureRef],
  resolveType: (value) => ('code' in value && 'retryable' in value ? SiteFailureRef : ExternalSiteRef),
});

const RegisterSiteInput = builder.inputType('RegisterSiteInput', {
  fields: (t) => ({
    url: t.string({ required: true, description: "The Moodle's base URL (its wwwroot)." }),
    token: t.string({
      required: true,
      description: "The web-service token of the site's service account: kept secret, never answered.",
    }),
    name: t.string({ description: 'Shown instead of the name the site gives itself.' }),
    id: t.id({ description: 'A slug unique in the tenant; derived from the URL when absent.' }),
    tenant: t.id({ description: "The tenant the site belongs to; the caller's own when absent." }),
    enabled: t.boolean({ defaultValue: true }),
    visible: t.boolean({ defaultValue: true, description: 'Hidden sites are not listed for users.' }),
    trusted: t.boolean({ defaultValue: false }),
    priority: t.int({ defaultValue: 0, description: 'Higher comes first in every list.' }),
    timeoutMs: t.int({ description: "Site-info deadline; the gateway's when absent." }),
  }),
});

const UpdateSiteInput = builder.inputType('UpdateSiteInput', {
  description: 'Fields left out stay as they are.',
  fields: (t) => ({
    id: t.id({ required: true }),
    tenant: t.id({ description: "The site's tenant; the caller's own when absent." }),
    name: t.string({ description: 'null goes back to the name the site gives itself.' }),
    enabled: t.boolean(),
    visible: t.boolean(),
    trusted: t.boolean(),
    priority: t.int(),
    timeoutMs: t.int({ description: "null goes back to the gateway's deadline." }),
    token: t.string({
      description: 'Token rotation: the site is asked with the new token before it is saved.',
    }),
  }),
});

const RemovedSiteRef = builder.objectRef<{ tenant: string; id: string }>('RemovedSite').implement({
  fields: (t) => ({ tenant: t.exposeID('tenant'), id: t.exposeID('id') }),
});

/** The hub, or the error that says the registry is not there. */
export function hubOf(context: GraphQLContext): SiteHub {
  if (!context.hub) {
    throw new GraphQLError('the site registry is not set up on this gateway', {
      extensions: { code: 'REGISTRY_DISABLED' },
    });
  }
  return context.hub;
}

/** The hub's refusals are the caller's mistakes: GraphQL errors with the hub's stable code. */
export async function hubCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof SiteHubError) {
      throw new GraphQLError(error.message, {
        extensions: { code: error.code, ...(error.field !== undefined && { field: error.field }) },
      });
    }
    throw error;
  }
}

function asResult(
  result: Result<RegisteredSite>,
  site: { id: string; url: string },
): RegisteredSite | SiteFailureValue {
  return result.ok ? result.value : { ...result.failure, site: site.id, siteUrl: site.url };
}

/** Optional GraphQL inputs arrive as `null` or absent: both mean "not given" unless null is meaningful. */
const given = <T>(value: T | null | undefined): value is T => value !== null && value !== undefined;

builder.queryFields((t) => ({
  registrySites: t.field({
    type: [ExternalSiteRef],
    description:
      'Every site of a tenant, configured and registered, hidden and disabled ones too, in priority order. A tenant admin names only its own tenant.',
    args: { tenant: t.arg.id({ description: "The caller's own when absent." }) },
    authScopes: (_root, { tenant }, context) => ({ manageSitesOf: tenant ?? context.tenant }),
    resolve: (_root, { tenant }, context) =>
      context.registry.list(tenant ?? context.tenant, { includeDisabled: true }),
  }),
}));

builder.mutationFields((t) => ({
  registerSite: t.field({
    type: RegisterSiteResult,
    description:
      "Registers a site: calls it first (core_webservice_get_site_info) and saves it only when it answers with the token; otherwise answers the site's own failure. It is in every query at once.",
    args: { input: t.arg({ type: RegisterSiteInput, required: true }) },
    authScopes: (_root, { input }, context) => ({ manageSitesOf: input.tenant ?? context.tenant }),
    resolve: async (_root, { input }, context) => {
      const hub = hubOf(context);
      const tenant = input.tenant ?? context.tenant;
      const result = await hubCall(() =>
        hub.register({
          tenant,
          url: input.url,
          token: input.token,
          ...(given(input.id) && { id: input.id }),
          ...(given(input.name) && { name: input.name }),
          ...(given(input.enabled) && { enabled: input.enabled }),
          ...(given(input.visible) && { visible: input.visible }),
          ...(given(input.trusted) && { trusted: input.trusted }),
          ...(given(input.priority) && { priority: input.priority }),
          ...(given(input.timeoutMs) && { timeoutMs: input.timeoutMs }),
        }),
      );
      return asResult(result, { id: input.id ?? input.url, url: input.url });
    },
  }),
  updateSite: t.field({
    type: RegisterSiteResult,
    description:
      "Changes a registered site at once. A new token is tried on the site first: refused, nothing changes and the site's failure is answered.",
    args: { input: t.arg({ type: UpdateSiteInput, required: true }) },
    authScopes: (_root, { input }, context) => ({ manageSitesOf: input.tenant ?? context.tenant }),
    resolve: async (_root, { input }, context) => {
      const hub = hubOf(context);
      const tenant = input.tenant ?? context.tenant;
      const result = await hubCall(() =>
        hub.update({
          tenant,
          id: input.id,
          ...('name' in input && { name: input.name ?? null }),
          ...('timeoutMs' in input && { timeoutMs: input.timeoutMs ?? null }),
          ...(given(input.enabled) && { enabled: input.enabled }),
          ...(given(input.visible) && { visible: input.visible }),
          ...(given(input.trusted) && { trusted: input.trusted }),
          ...(given(input.priority) && { priority: input.priority }),
          ...(given(input.token) && { token: input.token }),
        }),
      );
      return asResult(result, { id: input.id, url: context.registry.get(tenant, input.id)?.url ?? '' });
    },
  }),
  removeSite: t.field({
    type: RemovedSiteRef,
    description: 'Removes a registered site at once; configuration sites are removed from the configuration.',
    args: {
      id: t.arg.id({ required: true }),
      tenant: t.arg.id({ description: "The caller's own when absent." }),
    },
    authScopes: (_root, { tenant }, context) => ({ manageSitesOf: tenant ?? context.tenant }),
    resolve: async (_root, { id, tenant }, context) => {
      const hub = hubOf(context);
      const owner = tenant ?? context.tenant;
      await hubCall(() => hub.remove(owner, id));
      return { tenant: owner, id };
    },
  }),
}));
