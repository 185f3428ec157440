import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount } from './support/rest-accounts.js';
import { callRest, download } from './support/rest-call.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';

describe('the provider’s logs', () => {
  const lines: string[] = [];
  let provider: LaunchedProvider;

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    provider = await launchRestProvider({
      binaryBytes: 10,
      debug: true,
      logger: pino({ level: 'trace' }, destination),
    });
  });
  afterAll(() => provider?.close());

  it('never hold a token, whether the call succeeds or fails', async () => {
    const suspended = await addAccount(provider.admin, provider.provider.store, {
      username: 'wslog',
      suspended: true,
    });
    const wrong = 'feedfacefeedfacefeedfacefeedface';
    const zip = await callRest(provider.url, {
      wstoken: provider.token,
      wsfunction: 'block_my_external_privatefiles_get_private_files_zip',
      moodlewsrestformat: 'json',
      username: 'alice',
    });
    const { relativepath } = zip.json() as { relativepath: string };
    await download(provider.url, relativepath, provider.token);
    await download(provider.url, relativepath, wrong);
    await download(provider.url, relativepath, suspended.token);
    await callRest(provider.url, { wstoken: wrong, wsfunction: 'core_webservice_get_site_info' });
    await callRest(provider.url, { wstoken: suspended.token, wsfunction: 'core_webservice_get_site_info' });
    await callRest(provider.url, { wstoken: provider.token, wsfunction: 'nope' }, { method: 'GET' });

    expect(lines.length).toBeGreaterThan(5);
    const log = lines.join('');
    for (const token of [provider.token, wrong, suspended.token]) expect(log).not.toContain(token);
  });
});
