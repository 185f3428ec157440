import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { hideSecretArgs } from '../src/cli/hide-secret-args.js';
import type { StoredSite } from '../src/gateway/registry-store.js';
import { createSqliteRegistryStore } from '../src/gateway/sqlite-registry-store.js';
import { type CliRun, runCli, runCliHere, spawnCli } from './support/cli-process.js';
import { closedPortUrl, moodleBodies, startFaultInjector } from './support/fault-injector.js';
import { findLeaks } from './support/find-leaks.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';
import { newCapture, saveCapture } from './support/secret-capture.js';

const WRONG_TOKEN = 'fedcba9876543210fedcba9876543210';
const TITLE_TOKEN = 'title0123456789abcdef0123456789ab';
/** How often the gateways here look for changes made beside them. */
const WATCH_MS = 150;

interface Listed {
  tenant: string;
  id: string;
  name: string | null;
  url: string;
  priority: number;
  source: string;
  readOnly: boolean;
  maskedToken: string | null;
  release: string | null;
  token?: unknown;
}

describe('moodle-gateway sites add|remove|list: the persisted registry the gateway serves', () => {
  let law: LaunchedProvider;
  let sciences: LaunchedProvider;
  let dir: string;
  let dataDir: string;
  let config: string;
  let deadUrl: string;
  /** A gateway running on the registry while the commands change it. */
  let live: TestGateway | undefined;
  /** Every output of every command run here: no token may appear in any. */
  const said: string[] = [];

  const cli = async (args: string[], env: Record<string, string> = {}): Promise<CliRun> => {
    const result = await runCliHere(['sites', ...args, '--config', config], env);
    said.push(result.stdout, result.stderr);
    return result;
  };
  const storedSites = async (): Promise<StoredSite[]> => {
    if (!existsSync(join(dataDir, 'registry.sqlite'))) return [];
    const store = createSqliteRegistryStore({ dataDir });
    try {
      return await store.listSites();
    } finally {
      await store.close();
    }
  };
  const gatewayConfig = () => ({
    registry: { dataDir, watchMs: WATCH_MS },
    sites: [{ id: 'sciences', url: sciences.url, token: sciences.token, priority: 5 }],
  });
  const servedSites = async (gateway: TestGateway) =>
    (
      await gateway.graphql<{ externalSites: { id: string; name: string; priority: number }[] }>(
        '{ externalSites { id name priority } }',
      )
    ).body.data?.externalSites ?? [];
  /** Polls until `check` holds, for a few watch periods at most. */
  const eventually = async (check: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + 20 * WATCH_MS + 2000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('the gateway did not follow the change in time');
      await sleep(WATCH_MS / 2);
    }
  };
  const listJson = async (): Promise<Listed[]> => {
    const { code, stdout } = await cli(['list', '--json']);
    expect(code).toBe(0);
    return JSON.parse(stdout) as Listed[];
  };

  beforeAll(async () => {
    [law, sciences] = await Promise.all([
      launchRestProvider({ siteName: 'Faculty of Law', binaryBytes: 1000 }),
      launchRestProvider({ siteName: 'Faculty of Sciences', binaryBytes: 1000 }),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'cli-sites-registry-'));
    dataDir = join(dir, 'registry');
    config = join(dir, 'gateway.yaml');
    await writeFile(config, stringify(gatewayConfig()));
    deadUrl = await closedPortUrl();
  });
  afterAll(async () => {
    const capture = newCapture();
    for (const secret of [law?.token, sciences?.token, WRONG_TOKEN, TITLE_TOKEN]) {
      if (secret) capture.secrets.add(secret);
    }
    capture.said.push(...said);
    saveCapture(capture);
    await live?.close();
    await Promise.all([law?.close(), sciences?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('sites list and remove before any registration create nothing; list shows the configured sites, marked config', async () => {
    const { code, stdout, stderr } = await cli(['list']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^TENANT\s+ID\s+NAME\s+URL\s+PRIORITY\s+ENABLED\s+VISIBLE\s+SOURCE\n/);
    expect(stdout).toMatch(/default\s+sciences\s+-\s+\S+\s+5\s+yes\s+yes\s+config/);
    expect(stderr).toContain('does not exist');
    const removed = await cli(['remove', 'nope']);
    expect([removed.code, removed.stderr]).toEqual([1, expect.stringContaining('No site "nope"')]);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('sites add refused by the site with INVALID_TOKEN prints its code and message, exits 1 and saves nothing', async () => {
    const { code, stdout, stderr } = await cli(
      ['add', '--url', law.url, '--token-env', 'LAW_TOKEN', '--id', 'law'],
      { LAW_TOKEN: WRONG_TOKEN },
    );
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/The site refused: INVALID_TOKEN: \S.*token/i);
    expect(stderr).toContain('Nothing was saved');
    expect(await storedSites()).toEqual([]);
  });

  it('sites add of an unreachable site answers UNREACHABLE (JSON for scripts), exits 1 and saves nothing', async () => {
    const { code, stdout, stderr } = await cli(
      ['add', '--url', deadUrl, '--token-env', 'LAW_TOKEN', '--id', 'dead', '--json'],
      { LAW_TOKEN: law.token },
    );
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ code: 'UNREACHABLE', retryable: true, siteUrl: deadUrl });
    expect(stderr).toContain('The site refused: UNREACHABLE');
    expect(await storedSites()).toEqual([]);
  });

  it('sites add with the token on stdin asks the site, saves it with what it said of itself, and a running gateway serves it soon after', async () => {
    live = await startTestGateway(gatewayConfig(), { secrets: [law.token, sciences.token] });
    const gateway = live;
    expect((await servedSites(gateway)).map((site) => site.id)).toEqual(['sciences']);
    const { code, stdout, stderr } = await runCli(
      [
        'sites',
        'add',
        '--url',
        law.url,
        '--token',
        '-',
        '--id',
        'law',
        '--priority',
        '10',
        '--config',
        config,
      ],
      { input: `${law.token}\n` },
    );
    said.push(stdout, stderr);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('Registered site "law" in tenant "default"');
    expect(stdout).toMatch(/name\s+Faculty of Law/);
    expect(stdout).toMatch(/token\s+••••…\S{4}/);
    expect(stderr).toContain(
      'A gateway running on this registry takes this change into account within about 150ms (registry.watchMs)',
    );
    expect(stderr).toContain('registerSite');
    const [stored] = await storedSites();
    expect(stored).toMatchObject({ tenant: 'default', id: 'law', url: law.url, priority: 10 });
    expect(stored?.token).toBe(law.token);
    expect(stored?.recorded.sitename).toBe('Faculty of Law');
    await eventually(async () => (await servedSites(gateway)).some((site) => site.id === 'law'));
    expect(await servedSites(gateway)).toEqual([
      { id: 'law', name: 'Faculty of Law', priority: 10 },
      { id: 'sciences', name: 'Faculty of Sciences', priority: 5 },
    ]);
  });

  it('sites list shows configured and registered sites, marked by source, tokens only masked', async () => {
    const listed = await listJson();
    expect(listed.map((site) => [site.id, site.source, site.readOnly])).toEqual([
      ['law', 'registry', false],
      ['sciences', 'config', true],
    ]);
    expect(listed[0]).toMatchObject({ name: 'Faculty of Law', url: law.url, priority: 10 });
    expect(listed[0]?.release).toEqual(expect.any(String));
    expect(listed[0]?.maskedToken).toBe(`••••…${law.token.slice(-4)}`);
    expect(listed.every((site) => site.token === undefined)).toBe(true);
    const { stdout } = await cli(['list']);
    expect(stdout).toMatch(/default\s+law\s+Faculty of Law\s+\S+\s+10\s+yes\s+yes\s+registry/);
  });

  it('sites check asks the registered sites as well as the configured ones', async () => {
    const { code, stdout } = await cli(['check', '--json']);
    expect(code).toBe(0);
    const checks = JSON.parse(stdout) as { id: string; name: string; status: string; latencyMs: number }[];
    expect(checks.map((check) => [check.id, check.name, check.status])).toEqual([
      ['law', 'Faculty of Law', 'ok'],
      ['sciences', 'Faculty of Sciences', 'ok'],
    ]);
    expect(checks.every((check) => check.latencyMs >= 0)).toBe(true);
    const unknown = await cli(['check', '--tenant', 'nowhere']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No tenant "nowhere"/);
  });

  it('a gateway started afterwards on the same data directory serves the site added by the command, and its changes reach the running one', async () => {
    const gateway = await startTestGateway(gatewayConfig(), { secrets: [law.token, sciences.token] });
    try {
      const { body } = await gateway.graphql<{
        externalSites: { id: string; name: string; info: { __typename: string } }[];
      }>('{ externalSites { id name info { __typename } } }');
      expect(body.errors).toBeUndefined();
      expect(body.data?.externalSites).toEqual([
        { id: 'law', name: 'Faculty of Law', info: { __typename: 'SiteInfo' } },
        { id: 'sciences', name: 'Faculty of Sciences', info: { __typename: 'SiteInfo' } },
      ]);
      const updated = await gateway.graphql(
        'mutation { updateSite(input: { id: "law", name: "Law School", priority: 1 }) { __typename } }',
      );
      expect(updated.body.errors).toBeUndefined();
      const running = live as TestGateway;
      await eventually(async () =>
        (await servedSites(running)).some((site) => site.id === 'law' && site.name === 'Law School'),
      );
      expect((await servedSites(running)).map((site) => [site.id, site.priority])).toEqual([
        ['sciences', 5],
        ['law', 1],
      ]);
    } finally {
      await gateway.close();
    }
  });

  it('sites add refuses an id the tenant already has, and a configuration site’s id, with exit 1', async () => {
    for (const id of ['law', 'sciences']) {
      const { code, stderr } = await cli(['add', '--url', law.url, '--token-env', 'T', '--id', id], {
        T: law.token,
      });
      expect(code).toBe(1);
      expect(stderr).toContain(`already has a site "${id}"`);
    }
    expect((await storedSites()).map((site) => site.id)).toEqual(['law']);
  });

  it('sites remove refuses a configuration site as read-only, and an unknown one, with exit 1', async () => {
    const readOnly = await cli(['remove', 'sciences']);
    expect(readOnly.code).toBe(1);
    expect(readOnly.stderr).toContain('The site "sciences" comes from the configuration: change it there');
    const unknown = await cli(['remove', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No site "nope" in the registry of tenant "default"');
    expect((await storedSites()).map((site) => site.id)).toEqual(['law']);
  });

  it('sites remove removes a registered site from the persisted registry', async () => {
    const { code, stdout, stderr } = await cli(['remove', 'law']);
    expect(code).toBe(0);
    expect(stdout).toContain('Removed site "law" of tenant "default" from the registry');
    expect(stderr).toContain('A gateway running on this registry takes this change into account');
    expect(await storedSites()).toEqual([]);
    expect((await listJson()).map((site) => site.id)).toEqual(['sciences']);
    const running = live as TestGateway;
    await eventually(async () => !(await servedSites(running)).some((site) => site.id === 'law'));
    expect((await servedSites(running)).map((site) => site.id)).toEqual(['sciences']);
  });

  it('refuses what cannot work: no token, two tokens, an unset variable, a bad URL, a registry kept in memory', async () => {
    const noToken = await cli(['add', '--url', law.url]);
    expect([noToken.code, noToken.stderr]).toEqual([2, expect.stringContaining('No token: give the token')]);
    const both = await cli(['add', '--url', law.url, '--token', WRONG_TOKEN, '--token-env', 'T'], {
      T: WRONG_TOKEN,
    });
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining('cannot be used together')]);
    const unset = await cli(['add', '--url', law.url, '--token-env', 'NOT_SET']);
    expect([unset.code, unset.stderr]).toEqual([
      2,
      expect.stringContaining('The environment variable NOT_SET is not set or empty'),
    ]);
    const badUrl = await cli(['add', '--url', 'not a url', '--token-env', 'T'], { T: law.token });
    expect([badUrl.code, badUrl.stderr]).toEqual([
      2,
      expect.stringContaining('--url: must be an http(s) URL'),
    ]);

    const memoryConfig = join(dir, 'memory.yaml');
    await writeFile(memoryConfig, stringify({ sites: [] }));
    const memory = await runCliHere(
      ['sites', 'add', '--url', law.url, '--token-env', 'T', '--config', memoryConfig],
      { T: law.token },
    );
    said.push(memory.stdout, memory.stderr);
    expect(memory.code).toBe(2);
    expect(memory.stderr).toContain('keeps its site registry in memory');
    expect(memory.stderr).toContain('registry.dataDir');
  });

  it.skipIf(!existsSync('/proc/self/cmdline'))(
    'a token given with --token leaves the process title while the command runs',
    async () => {
      const site = await startFaultInjector({ kind: 'answer', body: moodleBodies.siteInfo, delayMs: 1500 });
      const titleConfig = join(dir, 'title.yaml');
      await writeFile(
        titleConfig,
        stringify({ registry: { dataDir: join(dir, 'title-registry'), watchMs: 0 } }),
      );
      const child = spawnCli([
        'sites',
        'add',
        '--url',
        site.url,
        '--token',
        TITLE_TOKEN,
        '--id',
        'peer',
        '--config',
        titleConfig,
      ]);
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      try {
        // While the site holds its answer, the command is running with its title set.
        const request = await site.nextRequest();
        expect(request.form.wstoken).toBe(TITLE_TOKEN);
        const cmdline = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
        expect(cmdline).not.toContain(TITLE_TOKEN);
        expect(cmdline).toContain('moodle-gateway sites add --url');
        expect(cmdline).toContain('--token [hidden]');
        expect(await exited).toBe(0);
        said.push(output);
        expect(output).toContain('Registered site "peer"');
        expect(output).toContain('(registry.watchMs is 0): it serves this change from its next start');
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        await exited;
        await sleep(0);
        await site.close();
      }
    },
  );

  it('no token appears in any output of any command run here', () => {
    expect(said.length).toBeGreaterThan(20);
    expect(findLeaks([law.token, sciences.token, WRONG_TOKEN, TITLE_TOKEN], said)).toEqual([]);
  });
});

describe('the process title of moodle-gateway', () => {
  it('hides the value of --token in both spellings, keeps --token - (stdin) and everything after --', () => {
    expect(hideSecretArgs(['sites', 'add', '--url', 'u', '--token', 'abc'])).toEqual({
      args: ['sites', 'add', '--url', 'u', '--token', '[hidden]'],
      hidden: true,
    });
    expect(hideSecretArgs(['sites', 'add', '--token=abc', '--id', 'x']).args).toEqual([
      'sites',
      'add',
      '--token=[hidden]',
      '--id',
      'x',
    ]);
    expect(hideSecretArgs(['sites', 'add', '--token', '-'])).toEqual({
      args: ['sites', 'add', '--token', '-'],
      hidden: false,
    });
    expect(hideSecretArgs(['sites', 'add', '--token-env', 'T']).hidden).toBe(false);
    expect(hideSecretArgs(['serve', '--config', 'g.yaml'])).toEqual({
      args: ['serve', '--config', 'g.yaml'],
      hidden: false,
    });
  });
});
