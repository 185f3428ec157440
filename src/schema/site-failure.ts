import type { RegisteredSite } from '../gateway/site-registry.js';
import { SITE_FAILURE_CODES, type SiteFailure } from '../moodle/failures.js';
import { builder } from './builder.js';

export interface SiteFailureValue extends SiteFailure {
  readonly site: string;
  readonly siteUrl: string;
}

/** A site's failure as GraphQL data, with the link a page shows instead (as the original block does). */
export function siteFailureValue(entry: RegisteredSite, failure: SiteFailure): SiteFailureValue {
  return { ...failure, site: entry.id, siteUrl: entry.url };
}

export const isSiteFailure = (value: object): value is SiteFailureValue =>
  'code' in value && 'retryable' in value;

export const SiteFailureCodeEnum = builder.enumType('SiteFailureCode', {
  description: 'Why a site could not answer. Every failure of a remote platform is one of these.',
  values: SITE_FAILURE_CODES,
});

export const SiteFailureRef = builder.objectRef<SiteFailureValue>('SiteFailure').implement({
  description: "One site's trouble, as data: the other sites still answer.",
  isTypeOf: (value) => typeof value === 'object' && value !== null && isSiteFailure(value),
  fields: (t) => ({
    site: t.exposeID('site', { description: 'The id of the site that failed.' }),
    code: t.field({ type: SiteFailureCodeEnum, resolve: (failure) => failure.code }),
    message: t.exposeString('message'),
    retryable: t.exposeBoolean('retryable', { description: 'Whether asking again later may succeed.' }),
    retryAfterSeconds: t.int({
      nullable: true,
      description: 'How long the site asked us to wait, when it said so.',
      resolve: (failure) => failure.retryAfterSeconds ?? null,
    }),
    siteUrl: t.exposeString('siteUrl', { description: 'The site itself, for a page to link to instead.' }),
  }),
});
