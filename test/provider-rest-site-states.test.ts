import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MaintenanceMode } from '../src/provider/rest/maintenance-mode.js';
import { callRest, download } from './support/rest-call.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';
import { recordedRest } from './support/rest-recorded-exchanges.js';

const SITE_INFO = 'core_webservice_get_site_info';

describe('a provider in maintenance or with web services disabled', () => {
  let provider: LaunchedProvider;
  let maintenance: MaintenanceMode = 'off';
  let webServices = true;
  let relativepath = '';

  beforeAll(async () => {
    provider = await launchRestProvider({
      binaryBytes: 10,
      maintenance: () => maintenance,
      webServicesEnabled: () => webServices,
    });
    const zip = await callRest(provider.url, {
      wstoken: provider.token,
      wsfunction: 'block_my_external_privatefiles_get_private_files_zip',
      moodlewsrestformat: 'json',
      username: 'alice',
    });
    ({ relativepath } = zip.json() as { relativepath: string });
  });
  afterAll(() => provider?.close());

  const siteInfo = () =>
    callRest(provider.url, { wstoken: provider.token, wsfunction: SITE_INFO, moodlewsrestformat: 'json' });

  it('answers sitemaintenance in the admin-page maintenance mode', async () => {
    maintenance = 'admin';
    try {
      const answer = await siteInfo();
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(recordedRest.sitemaintenance);
      const fetched = await download(provider.url, relativepath, provider.token);
      expect(JSON.parse(fetched.body.toString())).toMatchObject({ errorcode: 'sitemaintenance' });
    } finally {
      maintenance = 'off';
    }
  });

  it('answers HTTP 503 with an HTML page and Retry-After: 300 in the CLI maintenance mode', async () => {
    maintenance = 'cli';
    try {
      const answer = await siteInfo();
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('300');
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect((await download(provider.url, relativepath, provider.token)).status).toBe(503);
    } finally {
      maintenance = 'off';
    }
  });

  it('answers HTTP 403 with an empty body on server.php, and accessexception on downloads, with web services disabled', async () => {
    webServices = false;
    try {
      const answer = await siteInfo();
      expect(answer.status).toBe(403);
      expect(answer.text).toBe('');
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      const fetched = await download(provider.url, relativepath, provider.token);
      expect(fetched.status).toBe(200);
      expect(JSON.parse(fetched.body.toString())).toMatchObject({ errorcode: 'accessexception' });
    } finally {
      webServices = true;
    }
  });

  it('answers normally again once back in service', async () => {
    expect((await siteInfo()).json()).toMatchObject({ sitename: 'Provider under test' });
  });
});
