import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCliHere, spawnCli } from './support/cli-process.js';
import {
  type Behaviour,
  behaviours,
  type FaultInjector,
  moodleBodies,
  startFaultInjector,
  zipHeaders,
  zipLikeBytes,
} from './support/fault-injector.js';

const TOKEN = '0123456789abcdef0123456789abcdef';

/** A Moodle that answers site info and the zip call, then downloads the way `download` says. */
function moodle(download: Behaviour) {
  return (request: { path: string; form: Readonly<Record<string, string>> }): Behaviour => {
    if (!request.path.endsWith('/server.php')) return download;
    return behaviours.moodle(
      request.form.wsfunction === 'core_webservice_get_site_info'
        ? moodleBodies.siteInfo
        : moodleBodies.privateFilesZip,
    );
  };
}

describe('moodle-gateway download when the transfer goes wrong', () => {
  let broken: FaultInjector;
  let slow: FaultInjector;
  let dir: string;
  let config: string;

  beforeAll(async () => {
    broken = await startFaultInjector(
      moodle({ kind: 'reset-mid-body', headers: zipHeaders(100_000), body: zipLikeBytes(30_000) }),
    );
    slow = await startFaultInjector(moodle(behaviours.trickleZip(zipLikeBytes(2_000_000), 40_000)));
    dir = await mkdtemp(join(tmpdir(), 'cli-download-faults-'));
    config = join(dir, 'gateway.yaml');
    await writeFile(
      config,
      stringify({
        sites: [
          { id: 'broken', url: broken.url, token: TOKEN },
          { id: 'slow', url: slow.url, token: TOKEN },
        ],
      }),
    );
  });
  afterAll(async () => {
    await broken?.close();
    await slow?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a connection cut mid-body fails with exit 1 and a clear message, leaving no file or temp file', async () => {
    const out = join(dir, 'broken');
    const run = await runCliHere([
      'download',
      '--config',
      config,
      '--site',
      'broken',
      '--user',
      'alice',
      '--out',
      `${out}.zip`,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Download failed: broken: the transfer broke after .* nothing was saved\./);
    expect((await readdir(dir)).filter((name) => name.includes('broken.zip'))).toEqual([]);
  });

  it('Ctrl-C during a download exits 130 and removes the partial file', async () => {
    const out = join(dir, 'slow.zip');
    const child = spawnCli([
      'download',
      '--config',
      config,
      '--site',
      'slow',
      '--user',
      'alice',
      '--out',
      out,
    ]);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // Wait until bytes are landing in the temp file, then interrupt.
    const deadline = Date.now() + 15_000;
    while (!(await readdir(dir)).some((name) => name.startsWith('.slow.zip.') && name.endsWith('.part'))) {
      if (Date.now() > deadline) throw new Error(`no temp file appeared\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('Interrupted: nothing was saved.');
    expect((await readdir(dir)).filter((name) => name.includes('slow.zip'))).toEqual([]);
  });
});
