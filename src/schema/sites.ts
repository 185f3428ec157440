import { circuitOf } from '../gateway/circuit-breaker.js';
import type { GatewayLoaders } from '../gateway/loaders.js';
import { ZIP_FUNCTION } from '../gateway/private-files.js';
import type { SiteInfo } from '../gateway/site.js';
import type { RegisteredSite } from '../gateway/site-registry.js';
import type { Result } from '../moodle/failures.js';
import { builder } from './builder.js';
import { SiteFailureRef, siteFailureValue } from './site-failure.js';
import { SiteStatusEnum, siteStatusOf } from './site-status.js';

const SiteFunctionRef = builder.objectRef<SiteInfo['functions'][number]>('SiteFunction').implement({
  description: "A web-service function the gateway's token may call on the site.",
  fields: (t) => ({ name: t.exposeString('name'), version: t.exposeString('version') }),
});

const SiteInfoRef = builder.objectRef<SiteInfo>('SiteInfo').implement({
  description: "The site's own description, from core_webservice_get_site_info.",
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'sitename' in value,
  fields: (t) => ({
    sitename: t.exposeString('sitename'),
    siteurl: t.exposeString('siteurl'),
    release: t.exposeString('release', { nullable: true }),
    version: t.exposeString('version', { nullable: true }),
    lang: t.exposeString('lang', { nullable: true }),
    downloadfiles: t.exposeBoolean('downloadfiles'),
    uploadfiles: t.exposeBoolean('uploadfiles'),
    functions: t.field({ type: [SiteFunctionRef], resolve: (info) => info.functions }),
  }),
});

const SiteInfoResult = builder.unionType('SiteInfoResult', {
  types: [SiteInfoRef, SiteFailureRef],
  // Said at once rather than found by asking each member's isTypeOf: this union is on every site row.
  resolveType: (value) => ('sitename' in value ? SiteInfoRef : SiteFailureRef),
});

/**
 * `use` of the site's info: at once when the cache holds a fresh answer (most requests: no promise, no
 * batch, no deadline timer), else once the request's loader has asked the site.
 */
function withSiteInfo<T>(
  entry: RegisteredSite,
  loaders: GatewayLoaders,
  use: (info: Result<SiteInfo>) => T,
): T | Promise<T> {
  const known = loaders.siteInfoNow(entry);
  return known === undefined ? loaders.siteInfo.load(entry).then(use) : use(known);
}

export const ExternalSiteRef = builder.objectRef<RegisteredSite>('ExternalSite').implement({
  description: 'A configured Moodle platform.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Stable slug, used to name the site in other operations.' }),
    name: t.string({
      description: 'The configured name, else the name the site gives itself, else its id.',
      resolve: (entry, _args, { loaders }) =>
        entry.name ?? withSiteInfo(entry, loaders, (info) => (info.ok ? info.value.sitename : entry.id)),
    }),
    url: t.exposeString('url'),
    priority: t.exposeInt('priority', { authScopes: { siteDetails: true } }),
    enabled: t.exposeBoolean('enabled', { authScopes: { siteDetails: true } }),
    status: t.field({
      type: SiteStatusEnum,
      authScopes: { siteDetails: true },
      description: 'Whether the gateway currently asks the site, from its latest calls (never calls it).',
      resolve: (entry, _args, { freshness }) => {
        const circuit = circuitOf(entry.site);
        // An open circuit turns half-open by the clock alone, with nothing else changing.
        if (circuit?.probeAt) freshness.until(circuit.probeAt.getTime());
        return siteStatusOf(circuit);
      },
    }),
    info: t.field({
      type: SiteInfoResult,
      authScopes: { siteDetails: true },
      resolve: (entry, _args, { loaders }) =>
        withSiteInfo(entry, loaders, (info) =>
          info.ok ? info.value : siteFailureValue(entry, info.failure),
        ),
    }),
    supportsPrivateFiles: t.boolean({
      nullable: true,
      authScopes: { siteDetails: true },
      description: `Whether the site offers ${ZIP_FUNCTION}; null while the site cannot tell.`,
      resolve: (entry, _args, { loaders }) =>
        withSiteInfo(entry, loaders, (info) =>
          info.ok ? info.value.functions.some((fn) => fn.name === ZIP_FUNCTION) : null,
        ),
    }),
  }),
});

builder.queryFields((t) => ({
  externalSites: t.field({
    type: [ExternalSiteRef],
    description: 'Every configured site, in priority order; each is asked for its info in parallel.',
    args: { includeDisabled: t.arg.boolean({ defaultValue: false, description: 'Admins only.' }) },
    authScopes: { listSites: true },
    resolve: (_root, { includeDisabled }, { registry, tenant, caller, policy }) => {
      // Hidden sites are listed only for those who manage the tenant's sites.
      const unlisted = policy.canSeeUnlistedSites(caller);
      return registry
        .list(tenant, { includeDisabled: (includeDisabled ?? false) && unlisted })
        .filter((entry) => unlisted || entry.visible !== false);
    },
  }),
  externalSite: t.field({
    type: ExternalSiteRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    authScopes: { listSites: true },
    resolve: (_root, { id }, { registry, tenant, caller, policy }) => {
      const entry = registry.get(tenant, id);
      return entry && (entry.enabled || policy.canSeeUnlistedSites(caller)) ? entry : null;
    },
  }),
}));
