import {
  type DocumentNode,
  type GraphQLSchema,
  getNamedType,
  getOperationAST,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from 'graphql';

/**
 * The fields whose answer is computed only from the caller's identity and role, the site registry,
 * the cached site infos and the circuit breakers, each resolver telling `context.freshness` which
 * cached entry it read (and when that entry expires) or that it asked a site. An operation made of
 * these alone may be answered again from the response cache while nothing it was computed from has
 * changed. Add a field only when its resolver reads nothing else.
 */
const REUSABLE_FIELDS: ReadonlySet<string> = new Set([
  'Query.externalSites',
  'Query.externalSite',
  ...[
    'id',
    'name',
    'url',
    'priority',
    'enabled',
    'status',
    'info',
    'supportsPrivateFiles',
    'tenant',
    'visible',
    'trusted',
  ].map((field) => `ExternalSite.${field}`),
]);

/** Types whose every field is plain data of the value they resolve from. */
const REUSABLE_TYPES: ReadonlySet<string> = new Set(['SiteInfo', 'SiteFunction', 'SiteFailure']);

const CONDITIONS: ReadonlySet<string> = new Set(['include', 'skip']);

const verdicts = new WeakMap<DocumentNode, Map<string, boolean>>();

/**
 * Whether the operation is a query selecting reusable fields only (any `__typename`, `@include` and
 * `@skip`; no other directive: `@defer`/`@stream` answers are not one text). Remembered per document,
 * which Yoga's parser cache keeps the same object for the same text.
 */
export function isReusableOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
): boolean {
  let byName = verdicts.get(document);
  if (byName === undefined) {
    byName = new Map();
    verdicts.set(document, byName);
  }
  const key = operationName ?? '';
  let verdict = byName.get(key);
  if (verdict === undefined) {
    verdict = decide(schema, document, operationName ?? undefined);
    byName.set(key, verdict);
  }
  return verdict;
}

function decide(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined): boolean {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== 'query') return false;
  const typeInfo = new TypeInfo(schema);
  let reusable = true;
  const visitor = visitWithTypeInfo(typeInfo, {
    Directive(directive) {
      if (!CONDITIONS.has(directive.name.value)) reusable = false;
    },
    Field(field) {
      const name = field.name.value;
      if (name === '__typename') return;
      const parent = typeInfo.getParentType();
      const type = parent && getNamedType(parent);
      if (!type || (!REUSABLE_TYPES.has(type.name) && !REUSABLE_FIELDS.has(`${type.name}.${name}`))) {
        reusable = false;
      }
    },
  });
  // The operation and every fragment of the document (one another operation uses only makes it stricter).
  visit(operation, visitor);
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) visit(definition, visitor);
  }
  return reusable;
}
