import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENT_VARIABLES, printConfigReference } from '../scripts/print-config-reference.js';
import { createProgram } from '../src/cli/create-program.js';
import { type GatewayConfig, gatewayConfigSchema } from '../src/config/config-schema.js';
import { loadConfig } from '../src/config/load-config.js';
import { PRIVATE_FILES_ZIP_FUNCTION, SITE_INFO_FUNCTION } from '../src/moodle/remote-site.js';
import { createMetrics } from '../src/server/metrics.js';

const doc = (name: string) => readFile(new URL(`../docs/${name}`, import.meta.url), 'utf8');

/** Every leaf of the defaults, by path: `server.port` → 4000. */
function leaves(value: unknown, prefix = ''): [string, unknown][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [[prefix, value]];
  return Object.entries(value).flatMap(([key, inner]) =>
    leaves(inner, prefix === '' ? key : `${prefix}.${key}`),
  );
}

describe('docs/configuration.md', () => {
  it('is what scripts/print-config-reference.ts prints from the schema (npm run docs:config)', async () => {
    expect(await doc('configuration.md')).toBe(await printConfigReference());
  });

  it('lists every option with its default', async () => {
    const text = await doc('configuration.md');
    const defaults = leaves(gatewayConfigSchema.parse({}));
    expect(defaults.length).toBeGreaterThan(30);
    for (const [path, value] of defaults) {
      if (value === undefined) continue;
      const row = text.split('\n').find((line) => line.startsWith(`| \`${path}\` |`));
      expect(row, path).toBeDefined();
      expect(row, path).toContain(`\`${JSON.stringify(value)}\``);
    }
    for (const key of Object.keys(gatewayConfigSchema.shape)) expect(text).toContain(`\`${key}`);
    for (const key of ['id', 'url', 'token', 'name', 'priority', 'enabled', 'tenant']) {
      expect(text).toContain(`| \`sites[].${key}\` |`);
    }
  });
});

describe('the documented environment variables', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'docs-env-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const load = (env: Record<string, string>) =>
    loadConfig({ env: { MOODLE_SITES: 'https://m.example.edu,abc', ...env } });
  const checks: Record<string, () => Promise<void>> = {
    MOODLE_GATEWAY_CONFIG: async () => {
      const file = join(dir, 'gateway.yaml');
      await writeFile(file, 'logLevel: warn\n');
      expect((await loadConfig({ env: { MOODLE_GATEWAY_CONFIG: file } })).logLevel).toBe('warn');
    },
    MOODLE_SITES: async () => {
      expect((await load({})).sites.map((site) => [site.id, site.url])).toEqual([
        ['m-example-edu', 'https://m.example.edu'],
      ]);
    },
    'MOODLE_SITE_<ID>_TOKEN': async () => {
      expect((await load({ MOODLE_SITE_M_EXAMPLE_EDU_TOKEN: 'from-env' })).sites[0]?.token).toBe('from-env');
    },
    PORT: async () => expect((await load({ PORT: '8081' })).server.port).toBe(8081),
    HOST: async () => expect((await load({ HOST: '0.0.0.0' })).server.host).toBe('0.0.0.0'),
    GATEWAY_PUBLIC_URL: async () =>
      expect((await load({ GATEWAY_PUBLIC_URL: 'https://gw.example.edu' })).server.publicUrl).toBe(
        'https://gw.example.edu',
      ),
    GATEWAY_LINK_SECRET: async () => {
      const secret = 'x'.repeat(40);
      expect((await load({ GATEWAY_LINK_SECRET: secret })).downloadLinks.secret).toBe(secret);
    },
    MOODLE_GATEWAY_DATA_DIR: async () =>
      expect((await load({ MOODLE_GATEWAY_DATA_DIR: '/srv/data' })).provider.dataDir).toBe('/srv/data'),
    LOG_LEVEL: async () =>
      expect((await load({ LOG_LEVEL: 'debug' })).logLevel).toBe<GatewayConfig['logLevel']>('debug'),
  };

  it('are each tested here', () => {
    expect(ENVIRONMENT_VARIABLES.map((variable) => variable.name).sort()).toEqual(Object.keys(checks).sort());
  });

  for (const [name, check] of Object.entries(checks)) {
    it(`${name} does what the reference says`, check);
  }
});

describe('docs/operations.md', () => {
  it('describes every metric the gateway exports', async () => {
    const text = await doc('operations.md');
    const names = (await createMetrics({ collectDefaultMetrics: false }).registry.getMetricsAsJSON()).map(
      (metric) => metric.name,
    );
    expect(names.length).toBeGreaterThan(15);
    for (const name of names) expect(text, name).toContain(`\`${name}\``);
  });

  it('describes every command of the command line', async () => {
    const text = await doc('operations.md');
    const program = createProgram({
      io: { stdout: { write: () => true }, stderr: { write: () => true }, env: {} },
      onOutcome: () => undefined,
    });
    const commands = program.commands.flatMap((command) =>
      command.commands.length > 0
        ? command.commands.map((sub) => `${command.name()} ${sub.name()}`)
        : [command.name()],
    );
    expect(commands).toEqual(
      expect.arrayContaining(['serve', 'provider', 'sites check', 'download', 'cleanup', 'config check']),
    );
    for (const command of commands) expect(text, command).toContain(`\`moodle-gateway ${command}`);
  });
});

describe('docs/connect-a-real-moodle.md', () => {
  it('names the functions, capabilities and service the gateway needs, as the code spells them', async () => {
    const text = await doc('connect-a-real-moodle.md');
    for (const name of [
      SITE_INFO_FUNCTION,
      PRIVATE_FILES_ZIP_FUNCTION,
      'webservice/rest:use',
      'block/my_external_privatefiles:can_retrieve_files_from_other_users',
      'block/my_external_privatefiles:can_create_draftuserfiles_for_other_users',
      'wsblockmyexternalprivatefiles',
      'IP restriction',
    ]) {
      expect(text).toContain(name);
    }
  });
});
