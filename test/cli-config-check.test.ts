import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { MASK } from '../src/config/mask-secrets.js';
import { type CliRun, runCli, runCliHere } from './support/cli-process.js';

const SITE_TOKEN = 'f00dfeedf00dfeedf00dfeedf00dfeed';
const ENV_TOKEN = 'beefcafebeefcafebeefcafebeefcafe';
const LINK_SECRET = 'link-secret-that-is-long-enough-0123456789';

describe('moodle-gateway config check', () => {
  let dir: string;
  let valid: CliRun;
  let validJson: CliRun;
  let invalid: CliRun;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-config-'));
    const good = join(dir, 'gateway.yaml');
    await writeFile(
      good,
      stringify({
        server: { port: 8080 },
        sites: [
          { id: 'lettres', url: 'https://moodle.lettres.example.edu', token: SITE_TOKEN, priority: 5 },
          { id: 'sciences', url: 'https://moodle.sciences.example.edu', token: 'overridden-by-env' },
        ],
        downloadLinks: { secret: LINK_SECRET },
      }),
    );
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      stringify({ server: { port: 'eighty' }, sites: [{ id: 'Bad Id', url: 'ftp://x', token: '' }] }),
    );
    valid = await runCli(['config', 'check', '--config', good], {
      env: { MOODLE_SITE_SCIENCES_TOKEN: ENV_TOKEN, PORT: '9090' },
    });
    validJson = await runCliHere(['config', 'check', '--config', good, '--json'], {
      MOODLE_SITE_SCIENCES_TOKEN: ENV_TOKEN,
    });
    invalid = await runCliHere(['config', 'check', '--config', bad]);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the effective configuration with defaults and environment applied, and exits 0', () => {
    expect(valid.code).toBe(0);
    const effective = parse(valid.stdout) as Record<string, Record<string, unknown>>;
    expect(effective.server).toMatchObject({ port: 9090, host: 'localhost', shutdownGraceMs: 10_000 });
    expect(effective.timeouts).toMatchObject({ siteInfoMs: 10_000, zipMs: 120_000 });
    expect(valid.stderr).toContain('Configuration valid.');
  });

  it('masks every secret, including one from the environment', () => {
    const effective = JSON.parse(validJson.stdout) as {
      sites: { id: string; token: string }[];
      downloadLinks: { secret: string; ttlSeconds: number };
    };
    expect(effective.sites.map((site) => site.token)).toEqual([MASK, MASK]);
    expect(effective.downloadLinks).toEqual({ secret: MASK, ttlSeconds: 300 });
    for (const run of [valid, validJson]) {
      for (const secret of [SITE_TOKEN, ENV_TOKEN, LINK_SECRET, 'overridden-by-env']) {
        expect(run.stdout + run.stderr).not.toContain(secret);
      }
    }
  });

  it('an invalid configuration exits 2 naming every bad field, without a stack trace', () => {
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('Invalid configuration in');
    for (const field of ['server.port', 'sites.0.id', 'sites.0.url', 'sites.0.token']) {
      expect(invalid.stderr).toContain(`${field}:`);
    }
    expect(invalid.stderr).not.toMatch(/\n\s+at /);
    expect(invalid.stdout).toBe('');
  });
});
