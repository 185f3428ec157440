import { buffer } from 'node:stream/consumers';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../src/moodle/agent.js';
import { createRemoteSite } from '../src/moodle/remote-site.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';
import { readZip } from './support/zip-read.js';

// The local provider is the stand-in for a real Moodle: the REST adapter must understand it as it is.
let provider: LaunchedProvider;
let agent: Agent;

beforeAll(async () => {
  provider = await launchRestProvider({ siteName: 'Contract provider', binaryBytes: 50_000 });
  agent = createAgent({ connectTimeoutMs: 2_000 });
});

afterAll(async () => {
  await agent?.destroy();
  await provider?.close();
});

const siteWith = (token: string) =>
  createRemoteSite({ site: { id: 'provider', url: provider.url, token }, dispatcher: agent });

describe('the REST adapter against the local provider', () => {
  it('reads its site info', async () => {
    const result = await siteWith(provider.token).getSiteInfo();
    expect(result).toMatchObject({ ok: true, value: { sitename: 'Contract provider' } });
    expect(result.ok && result.value.functions.map((f) => f.name)).toContain(
      'block_my_external_privatefiles_get_private_files_zip',
    );
  });

  it("creates alice's zip and streams it whole", async () => {
    const site = siteWith(provider.token);
    const zip = await site.createPrivateFilesZip('alice');
    if (!zip.ok) {
      throw new Error(zip.failure.message);
    }
    const download = await site.openDownload(zip.value.relativepath);
    if (!download.ok) {
      throw new Error(download.failure.message);
    }
    const bytes = await buffer(download.value.body);
    expect(download.value.contentLength).toBe(bytes.length);
    const entries = await readZip(bytes);
    expect(entries.some((entry) => !entry.isDirectory)).toBe(true);
  });

  it.each([
    ['bob', 'NO_FILES'],
    ['ALICE', 'USER_NOT_FOUND'],
    [' alice ', 'USER_NOT_FOUND'],
  ])('answers %j with %s', async (username, code) => {
    expect(await siteWith(provider.token).createPrivateFilesZip(username)).toMatchObject({
      ok: false,
      failure: { code },
    });
  });

  it('answers INVALID_TOKEN to a wrong token, for calls and downloads', async () => {
    const site = siteWith('0000000000000000ffffffffffffffff');
    expect(await site.getSiteInfo()).toMatchObject({ ok: false, failure: { code: 'INVALID_TOKEN' } });
    expect(await site.openDownload('/1/user/draft/1/myprivatefiles.zip')).toMatchObject({
      ok: false,
      failure: { code: 'INVALID_TOKEN' },
    });
  });
});
