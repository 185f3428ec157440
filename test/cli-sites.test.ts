import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type CliRun, runCli, runCliHere } from './support/cli-process.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';

const WRONG_TOKEN = '0123456789abcdef0123456789abcdef';

describe('moodle-gateway sites', () => {
  let lettres: LaunchedProvider;
  let sciences: LaunchedProvider;
  let dir: string;
  let mixedConfig: string;
  let healthyConfig: string;
  let runs: Record<string, CliRun>;
  const run = (name: string): CliRun => {
    const found = runs[name];
    if (!found) throw new Error(`no run ${name}`);
    return found;
  };

  beforeAll(async () => {
    [lettres, sciences] = await Promise.all([
      launchRestProvider({ siteName: 'Faculté des Lettres', binaryBytes: 1000 }),
      launchRestProvider({ siteName: 'Faculté des Sciences', binaryBytes: 1000 }),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'cli-sites-'));
    const healthy = [
      { id: 'lettres', url: lettres.url, token: lettres.token, priority: 10 },
      { id: 'sciences', url: sciences.url, token: sciences.token },
    ];
    healthyConfig = join(dir, 'healthy.yaml');
    await writeFile(healthyConfig, stringify({ sites: healthy }));
    mixedConfig = join(dir, 'mixed.yaml');
    await writeFile(
      mixedConfig,
      stringify({
        sites: [
          ...healthy,
          { id: 'revoked', url: sciences.url, token: WRONG_TOKEN },
          {
            id: 'archive',
            url: 'http://127.0.0.1:9',
            token: WRONG_TOKEN,
            enabled: false,
            name: 'Old archive',
          },
          { id: 'down', url: 'http://127.0.0.1:9', token: WRONG_TOKEN, timeoutMs: 3000 },
        ],
      }),
    );
    // `sites check` runs as its own process, side by side; the rest in this one.
    const [healthyRun, mixed, mixedJson] = await Promise.all([
      runCli(['sites', 'check', '--config', healthyConfig]),
      runCli(['sites', 'check', '--config', mixedConfig]),
      runCli(['sites', 'check', '--config', mixedConfig, '--json']),
    ]);
    runs = { healthy: healthyRun as CliRun, mixed: mixed as CliRun, mixedJson: mixedJson as CliRun };
    runs.list = await runCliHere(['sites', 'list', '--config', mixedConfig]);
    runs.listJson = await runCliHere(['sites', 'list', '--config', mixedConfig, '--json']);
    runs.missing = await runCliHere(['sites', 'check', '--config', join(dir, 'nope.yaml')]);
  });
  afterAll(async () => {
    await Promise.all([lettres?.close(), sciences?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('sites check prints one row per site with name, release, latency and status, and exits 0 when all answer', () => {
    const { code, stdout, stderr } = run('healthy');
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+NAME\s+RELEASE\s+LATENCY\s+STATUS\s+CODE\s+MESSAGE$/);
    expect(rows[0]).toMatch(/^lettres\s+Faculté des Lettres\s+\S.*\s+\d+(ms|\.\ds)\s+ok\s+-/);
    expect(rows[1]).toMatch(/^sciences\s+Faculté des Sciences\s+.*\s+ok\s+-/);
    expect(stderr).toContain('All 2 enabled site(s) answered.');
  });

  it('sites check exits 1 and names the failure code and message of a failing site, leaving disabled ones unchecked', () => {
    const { code, stdout, stderr } = run('mixed');
    expect(code).toBe(1);
    const revoked = stdout.split('\n').find((line) => line.startsWith('revoked'));
    expect(revoked).toMatch(/failed\s+INVALID_TOKEN\s+\S/);
    const archive = stdout.split('\n').find((line) => line.startsWith('archive'));
    expect(archive).toMatch(/Old archive.*disabled\s+-\s+not checked: disabled/);
    expect(stderr).toContain('2 enabled site(s) failed: down, revoked.');
  });

  it('sites check --json gives the same facts to scripts, and never a token', () => {
    const { code, stdout, stderr } = run('mixedJson');
    expect(code).toBe(1);
    const checks = JSON.parse(stdout) as {
      id: string;
      status: string;
      code: string | null;
      release: string | null;
      latencyMs: number | null;
    }[];
    expect(checks.map((check) => [check.id, check.status, check.code])).toEqual([
      ['lettres', 'ok', null],
      ['archive', 'disabled', null],
      ['down', 'failed', 'UNREACHABLE'],
      ['revoked', 'failed', 'INVALID_TOKEN'],
      ['sciences', 'ok', null],
    ]);
    expect(checks[0]?.release).toEqual(expect.any(String));
    expect(checks[0]?.latencyMs).toEqual(expect.any(Number));
    for (const secret of [lettres.token, sciences.token, WRONG_TOKEN]) {
      expect(stdout + stderr).not.toContain(secret);
    }
  });

  it('sites check reports an unreachable site as UNREACHABLE within its deadline', () => {
    const { code, stdout } = run('mixed');
    expect(code).toBe(1);
    expect(stdout).toMatch(/\ndown\s+-\s+-\s+\S+\s+failed\s+UNREACHABLE/);
  });

  it('sites list shows the configured sites without their tokens, and says no registry is persisted', () => {
    const { code, stdout, stderr } = run('list');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^TENANT\s+ID\s+NAME\s+URL\s+PRIORITY\s+ENABLED\s+VISIBLE\s+SOURCE/);
    expect(stdout).toMatch(
      /default\s+archive\s+Old archive\s+http:\/\/127\.0\.0\.1:9\s+0\s+no\s+yes\s+config/,
    );
    expect(stderr).toContain('Registered sites: none persisted');
    expect(stdout).toContain(lettres.url);
    const listed = JSON.parse(run('listJson').stdout) as {
      id: string;
      token?: string;
    }[];
    expect(listed.map((site) => site.id)).toEqual(['lettres', 'archive', 'down', 'revoked', 'sciences']);
    expect(listed.every((site) => site.token === undefined)).toBe(true);
    expect(stdout).not.toContain(lettres.token);
  });

  it('a missing configuration file is a usage error (exit 2) with a clear message', () => {
    const { code, stderr } = run('missing');
    expect(code).toBe(2);
    expect(stderr).toContain('Cannot read the configuration file');
    expect(stderr).not.toContain('    at ');
  });
});
