import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type CliRun, runCli, runCliHere } from './support/cli-process.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';
import { readZip } from './support/zip-read.js';

describe('moodle-gateway download', () => {
  let provider: LaunchedProvider;
  let dir: string;
  let config: string;
  const runs = new Map<string, CliRun>();
  const run = (name: string): CliRun => {
    const found = runs.get(name);
    if (!found) throw new Error(`no run ${name}`);
    return found;
  };

  beforeAll(async () => {
    provider = await launchRestProvider({ siteName: 'Faculté des Lettres', binaryBytes: 300_000 });
    dir = await mkdtemp(join(tmpdir(), 'cli-download-'));
    config = join(dir, 'gateway.yaml');
    await writeFile(
      config,
      stringify({ sites: [{ id: 'lettres', url: provider.url, token: provider.token }] }),
    );
    for (const sub of ['out', 'cwd', 'failures']) await mkdir(join(dir, sub));
    await writeFile(join(dir, 'failures', 'taken.zip'), 'keep me');
    const base = ['download', '--config', config, '--site', 'lettres'];
    // Downloads run as their own processes, side by side; usage errors in this one.
    const [saved, named, unknownUser] = await Promise.all([
      runCli([...base, '--user', 'alice', '--out', join(dir, 'out', 'alice.zip')]),
      runCli([...base, '--user', 'alice'], { cwd: join(dir, 'cwd') }),
      runCli([...base, '--user', 'nobody', '--out', join(dir, 'failures', 'nobody.zip')]),
    ]);
    runs.set('saved', saved).set('named', named).set('unknownUser', unknownUser);
    runs.set(
      'emptyArea',
      await runCliHere([...base, '--user', 'bob', '--out', join(dir, 'failures', 'bob.zip')]),
    );
    runs.set(
      'exists',
      await runCliHere([...base, '--user', 'alice', '--out', join(dir, 'failures', 'taken.zip')]),
    );
    runs.set(
      'unknownSite',
      await runCliHere(['download', '--config', config, '--site', 'nope', '--user', 'alice']),
    );
  });
  afterAll(async () => {
    await provider?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("saves the user's zip at --out, prints its path, and the zip holds the user's private files", async () => {
    const { code, stdout, stderr } = run('saved');
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(join(dir, 'out', 'alice.zip'));
    expect(stderr).toMatch(/Saved \d+(\.\d)? KiB in \S+/);
    const entries = await readZip(await readFile(join(dir, 'out', 'alice.zip')));
    const names = entries.map((entry) => entry.name);
    expect(names).toContain('welcome.txt');
    expect(names).toContain('notes/');
    expect(entries.find((entry) => entry.name === 'welcome.txt')?.data.toString()).toContain(
      'Faculté des Lettres',
    );
    const binary = entries.find((entry) => !entry.isDirectory && entry.data.length === 300_000);
    expect(binary).toBeDefined();
  });

  it('leaves no temp file beside the saved zip', async () => {
    expect(await readdir(join(dir, 'out'))).toEqual(['alice.zip']);
  });

  it('names the file as the gateway does when --out is absent, in the current directory', async () => {
    const { code, stdout } = run('named');
    expect(code).toBe(0);
    const [saved] = await readdir(join(dir, 'cwd'));
    expect(saved).toMatch(/^my_privatefiles_Facult__des_Lettres_\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.zip$/);
    expect(stdout.trim()).toBe(join(dir, 'cwd', saved ?? ''));
  });

  it('an unknown user fails with exit 1, the failure code and message, and writes nothing', async () => {
    const { code, stdout, stderr } = run('unknownUser');
    expect(code).toBe(1);
    expect(stderr).toContain('Download failed: lettres: USER_NOT_FOUND: The site has no user "nobody"');
    expect(stdout).toBe('');
  });

  it('a user without private files fails with NO_FILES', () => {
    const { code, stderr } = run('emptyArea');
    expect(code).toBe(1);
    expect(stderr).toContain('Download failed: lettres: NO_FILES');
  });

  it('refuses to replace an existing file without --force (exit 2), leaving it untouched', async () => {
    const { code, stderr } = run('exists');
    expect(code).toBe(2);
    expect(stderr).toContain('already exists');
    expect(await readFile(join(dir, 'failures', 'taken.zip'), 'utf8')).toBe('keep me');
    expect((await readdir(join(dir, 'failures'))).sort()).toEqual(['taken.zip']);
  });

  it('an unknown site is a usage error naming the configured ones', () => {
    const { code, stderr } = run('unknownSite');
    expect(code).toBe(2);
    expect(stderr).toContain(
      'No site "nope" for tenant "default" in the configuration (configured: lettres)',
    );
  });

  it('never prints the site token', () => {
    for (const { stdout, stderr } of runs.values()) expect(stdout + stderr).not.toContain(provider.token);
  });
});
