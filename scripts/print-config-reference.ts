/**
 * Writes docs/configuration.md from the configuration schema: every option, its type and default
 * from the zod schema itself, its description from the JSDoc comment beside it in
 * src/config/config-schema.ts. With --check, fails when the committed file is stale.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { z } from 'zod';
import { gatewayConfigSchema } from '../src/config/config-schema.js';
import { isSecretKey } from '../src/config/mask-secrets.js';

const SCHEMA_FILE = fileURLToPath(new URL('../src/config/config-schema.ts', import.meta.url));
const TARGET = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));

/** Environment variables `loadConfig` reads, and what they set. The docs test checks each one works. */
export const ENVIRONMENT_VARIABLES: readonly {
  readonly name: string;
  readonly sets: string;
  readonly note: string;
}[] = [
  {
    name: 'MOODLE_GATEWAY_CONFIG',
    sets: '(the file)',
    note: 'Path of the configuration file when `--config` is not given.',
  },
  {
    name: 'MOODLE_SITES',
    sets: '`sites`',
    note: "The original block's `url1,token1;url2,token2`; appended to the file's sites, ids made from each URL.",
  },
  {
    name: 'MOODLE_SITE_<ID>_TOKEN',
    sets: '`sites[].token`',
    note: 'The token of site `<id>` (upper case, non-alphanumerics as `_`), so that the file holds no secret.',
  },
  { name: 'PORT', sets: '`server.port`', note: '`--port` wins over it.' },
  { name: 'HOST', sets: '`server.host`', note: '' },
  { name: 'GATEWAY_PUBLIC_URL', sets: '`server.publicUrl`', note: '' },
  {
    name: 'GATEWAY_LINK_SECRET',
    sets: '`downloadLinks.secret`',
    note: 'Share it between gateways behind one load balancer.',
  },
  { name: 'MOODLE_GATEWAY_DATA_DIR', sets: '`provider.dataDir`', note: '' },
  { name: 'LOG_LEVEL', sets: '`logLevel`', note: '' },
];

interface Documented {
  readonly description: string;
  /** The comment's `@default`, for options whose default is not in the schema (inherited ones). */
  readonly defaultText: string | null;
}

/** JSDoc of every property of the schema's object literals, by path (`server.port`, `sites[].url`). */
export function readSchemaComments(source: string): Map<string, Documented> {
  const file = ts.createSourceFile(SCHEMA_FILE, source, ts.ScriptTarget.ES2022, true);
  const constants = new Map<string, ts.Expression>();
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const declaration of statement.declarationList.declarations) {
      if (ts.isIdentifier(declaration.name) && declaration.initializer) {
        constants.set(declaration.name.text, declaration.initializer);
      }
    }
  }
  const comments = new Map<string, Documented>();

  // Finds the object literal (or the array's element) a schema expression is built on.
  function shape(
    expression: ts.Expression,
    seen = new Set<string>(),
  ): { object?: ts.ObjectLiteralExpression; item?: ts.Expression } {
    if (ts.isIdentifier(expression)) {
      const initializer = constants.get(expression.text);
      if (!initializer || seen.has(expression.text)) return {};
      return shape(initializer, new Set([...seen, expression.text]));
    }
    if (ts.isCallExpression(expression) && ts.isPropertyAccessExpression(expression.expression)) {
      const { name, expression: receiver } = expression.expression;
      const argument = expression.arguments[0];
      if (ts.isIdentifier(receiver) && receiver.text === 'z' && argument) {
        if (
          (name.text === 'strictObject' || name.text === 'object') &&
          ts.isObjectLiteralExpression(argument)
        ) {
          return { object: argument };
        }
        if (name.text === 'array') return { item: argument };
        return {};
      }
      return shape(receiver, seen);
    }
    return {};
  }

  function walk(expression: ts.Expression, prefix: string) {
    const found = shape(expression);
    if (found.item) return walk(found.item, `${prefix}[]`);
    if (!found.object) return;
    for (const property of found.object.properties) {
      if (!ts.isPropertyAssignment(property) || !ts.isIdentifier(property.name)) continue;
      const path = prefix === '' ? property.name.text : `${prefix}.${property.name.text}`;
      const docs = ts.getJSDocCommentsAndTags(property).filter(ts.isJSDoc);
      const doc = docs[docs.length - 1];
      if (doc) {
        const text = ts.getTextOfJSDocComment(doc.comment) ?? '';
        const defaultTag = doc.tags?.find((tag) => tag.tagName.text === 'default');
        comments.set(path, {
          description: text.replace(/\s+/g, ' ').trim(),
          defaultText: defaultTag ? (ts.getTextOfJSDocComment(defaultTag.comment) ?? '').trim() : null,
        });
      }
      walk(property.initializer, path);
    }
  }

  const root = constants.get('gatewayConfigSchema');
  if (!root) throw new Error('gatewayConfigSchema not found in config-schema.ts');
  walk(root, '');
  return comments;
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

export interface OptionRow {
  readonly path: string;
  readonly type: string;
  readonly defaultValue: string;
  readonly description: string;
  readonly secret: boolean;
}

const SAFE = Number.MAX_SAFE_INTEGER;

function typeOf(schema: JsonSchema): string {
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(' or ');
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(', ');
  if (schema.type === 'array') return `list of ${schema.items ? typeOf(schema.items) : 'values'}`;
  if (schema.type === 'integer' || schema.type === 'number') {
    const word = schema.type === 'integer' ? 'integer' : 'number';
    const low = schema.minimum !== undefined && schema.minimum > -SAFE ? schema.minimum : undefined;
    const high = schema.maximum !== undefined && schema.maximum < SAFE ? schema.maximum : undefined;
    if (low !== undefined && high !== undefined) return `${word}, ${low} to ${high}`;
    if (low !== undefined) return `${word} ≥ ${low}`;
    if (high !== undefined) return `${word} ≤ ${high}`;
    return word;
  }
  if (schema.type === 'string') {
    const limits = [
      schema.minLength !== undefined && schema.minLength > 1
        ? `at least ${schema.minLength} characters`
        : null,
      schema.maxLength !== undefined ? `at most ${schema.maxLength} characters` : null,
    ].filter(Boolean);
    return limits.length > 0 ? `string, ${limits.join(', ')}` : 'string';
  }
  if (schema.type === 'null') return 'null';
  return Array.isArray(schema.type) ? schema.type.join(' or ') : (schema.type ?? 'any');
}

function isSection(schema: JsonSchema): boolean {
  return schema.type === 'object' && schema.properties !== undefined;
}

/** Every option of the schema, sections first-level, in the schema's order. */
export function configOptions(comments: ReadonlyMap<string, Documented>): OptionRow[] {
  const json = z.toJSONSchema(gatewayConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const defaults = gatewayConfigSchema.parse({}) as Record<string, unknown>;
  const rows: OptionRow[] = [];

  // `optionalParent`: the nearest optional object above, whose required fields are required only when it is set.
  function visit(
    schema: JsonSchema,
    path: string,
    required: boolean,
    inArray: boolean,
    optionalParent: string | null,
  ) {
    const element = schema.type === 'array' ? schema.items : undefined;
    if (isSection(schema) || (element && isSection(element))) {
      const object = (element ?? schema) as JsonSchema;
      const prefix = element ? `${path}[]` : path;
      // A list of objects, or an object below a section, is an option of its own too.
      if (element || path.includes('.') || path.includes('[]')) {
        rows.push(row(schema, path, required, inArray, optionalParent, element ? undefined : 'object'));
      }
      const parent = element ? null : required || path === '' || !path.includes('.') ? optionalParent : path;
      for (const [name, child] of Object.entries(object.properties ?? {})) {
        const childPath = prefix === '' ? name : `${prefix}.${name}`;
        visit(
          child,
          childPath,
          object.required?.includes(name) ?? false,
          inArray || element !== undefined,
          parent,
        );
      }
      return;
    }
    rows.push(row(schema, path, required, inArray, optionalParent));
  }

  function row(
    schema: JsonSchema,
    path: string,
    required: boolean,
    inArray: boolean,
    optionalParent: string | null,
    type = typeOf(schema),
  ): OptionRow {
    const documented = comments.get(path);
    const fromSchema =
      schema.default !== undefined ? schema.default : inArray ? undefined : valueAt(defaults, path);
    const defaultValue =
      fromSchema !== undefined
        ? `\`${JSON.stringify(fromSchema)}\``
        : documented?.defaultText
          ? `${documented.defaultText.replace(/\s+/g, ' ')}`
          : required
            ? optionalParent === null
              ? '**required**'
              : `**required** with \`${optionalParent}\``
            : '(none)';
    const name = path.split('.').pop()?.replace('[]', '') ?? path;
    return {
      path,
      type,
      defaultValue,
      description: documented?.description ?? '',
      secret: isSecretKey(name) && typeOf(schema).includes('string'),
    };
  }

  visit(json, '', true, false, null);
  return rows;
}

function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderReference(
  rows: readonly OptionRow[],
  comments: ReadonlyMap<string, Documented>,
): string {
  const topOf = (path: string) => path.split(/[.[]/)[0] ?? path;
  const hasChildren = (top: string) =>
    rows.some((other) => other.path.startsWith(`${top}.`) || other.path.startsWith(`${top}[]`));
  // Options without a section of their own first, then each section in the schema's order.
  const sections = new Map<string, OptionRow[]>([['', []]]);
  for (const row of rows) {
    const top = topOf(row.path);
    const key = hasChildren(top) ? top : '';
    sections.set(key, [...(sections.get(key) ?? []), row]);
  }
  const lines: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated by scripts/print-config-reference.ts from src/config/config-schema.ts: do not edit by hand. Run `npm run docs:config`; `npm run docs:check` fails when this file is stale. -->',
    '',
    'The gateway reads one configuration, in this order:',
    '',
    '1. the file named by `--config FILE` (or `MOODLE_GATEWAY_CONFIG`), YAML (`.yaml`, `.yml`) or JSON;',
    '2. the environment variables below, which override the file;',
    '3. with neither a file nor `MOODLE_SITES`, the embedded demo: the local provider, seeded, federated as site `local`.',
    '',
    'Every option has a default except where marked **required**. Unknown keys are refused, so a typo never goes unnoticed.',
    'Check a configuration, and see what the gateway would run with (secrets masked), with:',
    '',
    '```sh',
    'moodle-gateway config check --config gateway.yaml',
    '```',
    '',
    'Options marked *secret* are masked by `config check` and never logged; prefer the environment for them.',
    '',
    '## Environment variables',
    '',
    '| variable | sets | notes |',
    '|---|---|---|',
    ...ENVIRONMENT_VARIABLES.map(
      (variable) => `| \`${variable.name}\` | ${variable.sets} | ${cell(variable.note)} |`,
    ),
    '',
    'Logging reads two more: `LOG_FORMAT` (`json` or `pretty`; default: pretty on a terminal outside production) and `NODE_ENV`.',
    '',
    '## Options',
  ];
  for (const [section, sectionRows] of sections) {
    if (sectionRows.length === 0) continue;
    lines.push('', section === '' ? '### General' : `### \`${section}\``, '');
    const about = comments.get(section)?.description;
    if (section !== '' && about) lines.push(about, '');
    lines.push('| option | type | default | description |', '|---|---|---|---|');
    for (const row of sectionRows) {
      const description = `${row.secret ? '*secret.* ' : ''}${row.description}`.trim();
      lines.push(
        `| \`${row.path}\` | ${cell(row.type)} | ${cell(row.defaultValue)} | ${cell(description)} |`,
      );
    }
  }
  lines.push(
    '',
    '## Example',
    '',
    '```yaml',
    'server:',
    '  host: 0.0.0.0',
    '  port: 4000',
    '  publicUrl: https://gateway.example.edu',
    'sites:',
    '  - id: lettres                   # token from MOODLE_SITE_LETTRES_TOKEN',
    '    url: https://moodle.lettres.example.edu',
    '    name: Faculté des Lettres',
    '    priority: 10',
    '  - id: sciences                  # token from MOODLE_SITE_SCIENCES_TOKEN',
    '    url: https://moodle.sciences.example.edu',
    '    timeouts: { siteInfoMs: 5000 }',
    'downloadLinks:',
    '  ttlSeconds: 300                 # the secret comes from GATEWAY_LINK_SECRET',
    'logLevel: info',
    '```',
    '',
    'A token set through `MOODLE_SITE_<ID>_TOKEN` replaces whatever the file says, so the file can hold none.',
    '',
  );
  return lines.join('\n');
}

/** docs/configuration.md as the schema says it should be. */
export async function printConfigReference(): Promise<string> {
  const comments = readSchemaComments(await readFile(SCHEMA_FILE, 'utf8'));
  return renderReference(configOptions(comments), comments);
}

async function main(): Promise<void> {
  const printed = await printConfigReference();
  if (process.argv.includes('--check')) {
    const committed = await readFile(TARGET, 'utf8').catch(() => '');
    if (committed !== printed) {
      console.error('docs/configuration.md is stale: run `npm run docs:config` and commit the result.');
      process.exit(1);
    }
    return;
  }
  await writeFile(TARGET, printed);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
