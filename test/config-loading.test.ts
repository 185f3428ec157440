import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLegacySites, siteIdFromUrl } from '../src/config/legacy-sites.js';
import { ConfigError, loadConfig } from '../src/config/load-config.js';

async function configFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gateway-config-'));
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('configuration', () => {
  it('runs the embedded demo when there is neither a file nor MOODLE_SITES', async () => {
    const config = await loadConfig({ env: {} });
    expect(config.provider).toMatchObject({ enabled: true, seedDemo: true, federateAs: 'local' });
    expect(config.server.port).toBe(4000);
    expect(config.sites).toEqual([]);
  });

  it('reads a YAML file named by --config, with defaults filled in', async () => {
    const path = await configFile(
      'gateway.yaml',
      'sites:\n  - id: faculty-a\n    url: https://moodle-a.example/\n    token: abc\n    timeouts: { zipMs: 5000 }\n',
    );
    const config = await loadConfig({ argv: ['--config', path], env: {} });
    expect(config.sites).toEqual([
      expect.objectContaining({
        id: 'faculty-a',
        url: 'https://moodle-a.example',
        enabled: true,
        priority: 0,
        tenant: 'default',
        timeouts: { zipMs: 5000 },
      }),
    ]);
    expect(config.provider.enabled).toBe(false);
  });

  it('names the bad field and why', async () => {
    const path = await configFile(
      'gateway.json',
      JSON.stringify({ sites: [{ id: 'A B', url: 'ftp://x', token: '' }] }),
    );
    const error = await configErrorOf(loadConfig({ env: { MOODLE_GATEWAY_CONFIG: path } }));
    expect(error.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^sites\.0\.id: must be a slug/),
        'sites.0.url: must be an http(s) URL',
        'sites.0.token: must not be empty',
      ]),
    );
    expect(error.message).toContain(path);
  });

  it('rejects unknown keys and duplicate site ids', async () => {
    const path = await configFile(
      'gateway.json',
      JSON.stringify({
        sites: [
          { id: 'a', url: 'http://a.example', token: 't' },
          { id: 'a', url: 'http://b.example', token: 't', colour: 'red' },
        ],
      }),
    );
    const error = await configErrorOf(loadConfig({ argv: [`--config=${path}`], env: {} }));
    expect(error.problems.join('\n')).toMatch(/sites\.1.*colour/);
    expect(error.problems).toContain('sites.1.id: duplicate site id "a"');
  });

  it('says which file cannot be read or parsed', async () => {
    const missing = await configErrorOf(loadConfig({ argv: ['--config', '/nonexistent/gateway.json'] }));
    expect(missing.message).toContain('/nonexistent/gateway.json');
    const broken = await configFile('gateway.json', '{"sites": [');
    expect((await configErrorOf(loadConfig({ argv: ['--config', broken] }))).message).toContain('not valid');
  });

  it('lets the environment override the file, tokens included', async () => {
    const path = await configFile(
      'gateway.json',
      JSON.stringify({ sites: [{ id: 'faculty-a', url: 'http://a.example', token: 'from-file' }] }),
    );
    const config = await loadConfig({
      argv: ['--config', path],
      env: {
        PORT: '0',
        HOST: '127.0.0.1',
        MOODLE_SITE_FACULTY_A_TOKEN: 'from-env',
        MOODLE_GATEWAY_DATA_DIR: '/tmp/x',
      },
    });
    expect(config.server).toMatchObject({ port: 0, host: '127.0.0.1' });
    expect(config.sites[0]?.token).toBe('from-env');
    expect(config.provider.dataDir).toBe('/tmp/x');
  });

  it('refuses a PORT that is not a number, naming it', async () => {
    const error = await configErrorOf(loadConfig({ env: { PORT: 'eighty' } }));
    expect(error.problems).toEqual(['PORT: must be a whole number']);
  });
});

describe("the original block's MOODLE_SITES format", () => {
  it('gives each site an id from its URL alone: host, then port and path when present', () => {
    expect(siteIdFromUrl('https://moodle-a.example')).toBe('moodle-a-example');
    expect(siteIdFromUrl('http://127.0.0.1:8081')).toBe('127-0-0-1-8081');
    expect(siteIdFromUrl('https://uni.example/faculty/law/')).toBe('uni-example-faculty-law');
  });

  it('parses url,token pairs separated by semicolons', () => {
    expect(parseLegacySites('https://moodle-a.example,TOKEN_A; https://moodle-b.example/,TOKEN_B;')).toEqual([
      { id: 'moodle-a-example', url: 'https://moodle-a.example', token: 'TOKEN_A' },
      { id: 'moodle-b-example', url: 'https://moodle-b.example', token: 'TOKEN_B' },
    ]);
  });

  it('becomes configured sites, and a bad entry is named without its token', async () => {
    const config = await loadConfig({ env: { MOODLE_SITES: 'https://moodle-a.example,TOKEN_A' } });
    expect(config.provider.enabled).toBe(false);
    expect(config.sites.map((site) => site.id)).toEqual(['moodle-a-example']);
    const error = await configErrorOf(
      loadConfig({ env: { MOODLE_SITES: 'https://a.example,SECRET1;notaurl,SECRET2' } }),
    );
    expect(error.message).toContain('entry 2');
    expect(error.message).not.toContain('SECRET');
  });

  it('refuses two URLs that would share an id', async () => {
    const error = await configErrorOf(
      loadConfig({ env: { MOODLE_SITES: 'http://a.example,T1;https://a.example,T2' } }),
    );
    expect(error.message).toMatch(/same id "a-example"/);
  });
});
