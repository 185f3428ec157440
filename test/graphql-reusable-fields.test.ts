import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.js';
import { isReusableOperation } from '../src/schema/reusable-fields.js';

const reusable = (source: string, operationName?: string) =>
  isReusableOperation(schema, parse(source), operationName);

describe('which operations the response cache may answer again', () => {
  it('takes queries of sites, their info and their status, with fragments and conditions', () => {
    expect(
      reusable('{ externalSites { id name url status info { __typename ... on SiteInfo { sitename } } } }'),
    ).toBe(true);
    expect(
      reusable(`query Sites($all: Boolean!) { externalSites(includeDisabled: $all) { ...Row } __typename }
        fragment Row on ExternalSite { id visible trusted tenant priority enabled supportsPrivateFiles
          info { ... on SiteFailure { code message retryable siteUrl } ... on SiteInfo { functions { name } } }
          name @include(if: $all) }`),
    ).toBe(true);
    expect(reusable('{ externalSite(id: "a") { id } }')).toBe(true);
  });

  it('refuses anything else: calls, registry details, mutations, introspection, streaming directives', () => {
    expect(reusable('{ externalSites { id } privateFilesZips(username: "a") { __typename } }')).toBe(false);
    expect(reusable('{ externalSites { id registration { registeredAt } } }')).toBe(false);
    expect(
      reusable('{ externalSites { ...R } } fragment R on ExternalSite { registration { source } }'),
    ).toBe(false);
    expect(reusable('mutation { removeSite(id: "a") }')).toBe(false);
    expect(reusable('{ __schema { queryType { name } } }')).toBe(false);
    expect(reusable('{ externalSites { id ... @defer { name } } }')).toBe(false);
  });

  it('judges the operation asked for in a document of several', () => {
    const document = 'query A { externalSites { id } } mutation B { removeSite(id: "a") }';
    expect(reusable(document, 'A')).toBe(true);
    expect(reusable(document, 'B')).toBe(false);
  });
});
