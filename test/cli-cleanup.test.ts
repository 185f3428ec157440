import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../src/moodle/agent.js';
import { createRemoteSite } from '../src/moodle/remote-site.js';
import { runCli, runCliHere } from './support/cli-process.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';

describe('moodle-gateway cleanup', () => {
  let provider: LaunchedProvider;
  let empty: string;

  beforeAll(async () => {
    provider = await launchRestProvider({ binaryBytes: 1000 });
    empty = await mkdtemp(join(tmpdir(), 'cli-cleanup-empty-'));
    const agent = createAgent();
    const site = createRemoteSite({
      site: { id: 'p', url: provider.url, token: provider.token },
      dispatcher: agent,
    });
    for (let i = 0; i < 2; i++) expect((await site.createPrivateFilesZip('alice')).ok).toBe(true);
    await agent.close();
    // Zip times are whole seconds: let them fall strictly before the cutoff.
    await sleep(1100);
  });
  afterAll(async () => {
    await provider?.close();
    await rm(empty, { recursive: true, force: true });
  });

  it('deletes the zips older than --max-age-hours in the data directory of a running provider, and says so', async () => {
    expect(await provider.provider.store.zips.listOlderThan(Number.MAX_SAFE_INTEGER)).toHaveLength(2);
    const run = await runCli([
      'cleanup',
      '--data-dir',
      provider.dataDir,
      '--max-age-hours',
      '0.0001',
      '--json',
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      deletedZips: 2,
      skippedZipsUnderRead: 0,
      maxAgeHours: 0.0001,
    });
    expect(await provider.provider.store.zips.listOlderThan(Number.MAX_SAFE_INTEGER)).toHaveLength(0);

    const again = await runCliHere(['cleanup', '--data-dir', provider.dataDir, '--max-age-hours', '0.0001']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /^Cleaned .+: deleted 0 zip\(s\) older than 0\.0001 h; freed \d+ unreferenced blob\(s\)/,
    );
  });

  it('refuses a directory holding no provider store (exit 2) rather than creating one', async () => {
    const run = await runCliHere(['cleanup', '--data-dir', empty]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('No provider store in');
  });
});
