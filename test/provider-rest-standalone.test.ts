import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandaloneProvider } from '../src/provider/standalone.js';
import { callRest } from './support/rest-call.js';
import { launchRestProvider } from './support/rest-provider-launcher.js';
import { recordedRest } from './support/rest-recorded-exchanges.js';

describe('startStandaloneProvider', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'provider-standalone-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('runs several providers side by side, each its own Moodle', async () => {
    const [one, two] = await Promise.all([
      launchRestProvider({ siteName: 'One', binaryBytes: 10 }),
      launchRestProvider({ siteName: 'Two', binaryBytes: 10 }),
    ]);
    try {
      expect(one.url).not.toBe(two.url);
      const ask = (url: string, token: string) =>
        callRest(url, {
          wstoken: token,
          wsfunction: 'core_webservice_get_site_info',
          moodlewsrestformat: 'json',
        });
      expect((await ask(one.url, one.token)).json()).toMatchObject({ sitename: 'One' });
      expect((await ask(two.url, two.token)).json()).toMatchObject({ sitename: 'Two' });
      expect((await ask(one.url, two.token)).text).toBe(recordedRest.invalidtoken);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('serves the Moodle paths under a base path, like a Moodle in a sub-directory', async () => {
    const provider = await startStandaloneProvider({ dataDir, basePath: '/moodle/', cleanup: false });
    try {
      expect(provider.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/moodle$/);
      const answer = await callRest(provider.url, {
        wstoken: 'x',
        wsfunction: 'core_webservice_get_site_info',
      });
      expect(answer.text).toContain('<ERRORCODE>invalidtoken</ERRORCODE>');
    } finally {
      await provider.close();
    }
  });

  it('closes at once even when a client holds a connection it never used', async () => {
    const provider = await startStandaloneProvider({ dataDir, cleanup: false });
    const { port } = new URL(provider.url);
    const idle = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => idle.once('connect', resolve));
    const started = Date.now();
    await provider.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    idle.destroy();
  });
});
