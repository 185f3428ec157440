import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount } from './support/rest-accounts.js';
import { callRest, download } from './support/rest-call.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';
import { recordedDownloadErrors, recordedRest } from './support/rest-recorded-exchanges.js';

const ZIP = 'block_my_external_privatefiles_get_private_files_zip';
const SITE_INFO = 'core_webservice_get_site_info';

describe('the provider’s token rules', () => {
  let provider: LaunchedProvider;
  let offsetMs = 0;
  let relativepath = '';

  beforeAll(async () => {
    provider = await launchRestProvider({ binaryBytes: 10, clock: () => Date.now() + offsetMs });
    const zip = await callRest(provider.url, {
      wstoken: provider.token,
      wsfunction: ZIP,
      moodlewsrestformat: 'json',
      username: 'alice',
    });
    ({ relativepath } = zip.json() as { relativepath: string });
  });
  afterAll(() => provider?.close());

  const account = (options: Omit<Parameters<typeof addAccount>[2], 'username'> & { username: string }) =>
    addAccount(provider.admin, provider.provider.store, options);
  const rest = (token: string, wsfunction = SITE_INFO, extra: Record<string, string> = {}) =>
    callRest(provider.url, { wstoken: token, wsfunction, moodlewsrestformat: 'json', ...extra });
  const downloadError = async (token: string) =>
    JSON.parse((await download(provider.url, relativepath, token)).body.toString('utf8')) as {
      errorcode: string;
    };
  const tokenIds = async () => (await provider.admin.listTokens()).map((token) => token.id);

  it('refuses a token used from outside its IP range, and keeps the token', async () => {
    const { token, tokenId } = await account({
      username: 'wsfar',
      ipRestriction: ['10.0.0.0/8', '192.0.2.1'],
    });
    expect((await rest(token)).text).toBe(recordedRest.accessexception);
    expect(await downloadError(token)).toMatchObject({ errorcode: 'accessexception' });
    expect(await tokenIds()).toContain(tokenId);
  });

  it('accepts a token used from inside its IP range', async () => {
    const { token } = await account({ username: 'wsnear', ipRestriction: ['127.0.0.0/8'] });
    expect((await rest(token)).json()).toMatchObject({ username: 'wsnear' });
    expect((await download(provider.url, relativepath, token)).headers['content-type']).toBe(
      'application/zip',
    );
  });

  it('refuses an expired token with accessexception once, deletes it, then answers invalidtoken', async () => {
    const validUntil = Math.floor(Date.now() / 1000) + 60;
    const { token, tokenId } = await account({ username: 'wsexpiring', validUntil });
    expect((await rest(token)).json()).toMatchObject({ username: 'wsexpiring' });
    offsetMs = 120_000;
    try {
      expect((await rest(token)).text).toBe(recordedRest.accessexception);
      expect(await tokenIds()).not.toContain(tokenId);
      expect((await rest(token)).text).toBe(recordedRest.invalidtoken);
    } finally {
      offsetMs = 0;
    }
  });

  it('treats an expired token the same way on downloads', async () => {
    const validUntil = Math.floor(Date.now() / 1000) + 60;
    const { token } = await account({ username: 'wsexpiringdl', validUntil });
    offsetMs = 120_000;
    try {
      expect(await downloadError(token)).toMatchObject({ errorcode: 'accessexception' });
      expect((await download(provider.url, relativepath, token)).body.toString()).toBe(
        recordedDownloadErrors.invalidtoken.body,
      );
    } finally {
      offsetMs = 0;
    }
  });

  it('answers invalidtoken to a revoked token', async () => {
    const { token, tokenId } = await account({ username: 'wsrevoked' });
    expect((await rest(token)).json()).toMatchObject({ username: 'wsrevoked' });
    await provider.admin.revokeToken(tokenId);
    expect((await rest(token)).text).toBe(recordedRest.invalidtoken);
    expect((await download(provider.url, relativepath, token)).body.toString()).toBe(
      recordedDownloadErrors.invalidtoken.body,
    );
  });

  it('lets a token of another service call only that service’s functions', async () => {
    await provider.admin.createService({
      shortname: 'infoonly',
      name: 'Info only',
      functions: [SITE_INFO],
      restrictedUsers: false,
    });
    const { token } = await account({ username: 'wsinfo', service: 'infoonly' });
    expect((await rest(token)).json()).toMatchObject({ functions: [{ name: SITE_INFO }], downloadfiles: 0 });
    expect((await rest(token, ZIP, { username: 'alice' })).text).toBe(recordedRest.accessexception);
    expect(await downloadError(token)).toMatchObject({ errorcode: 'accessexception' });
  });

  it('refuses tokens of a disabled service', async () => {
    await provider.admin.createService({ shortname: 'soon-off', name: 'Soon off', functions: [SITE_INFO] });
    const { token } = await account({ username: 'wsoff', service: 'soon-off' });
    expect((await rest(token)).json()).toMatchObject({ username: 'wsoff' });
    await provider.admin.updateService('soon-off', { enabled: false });
    expect((await rest(token)).text).toBe(recordedRest.accessexception);
  });

  it('refuses an account no longer among a restricted service’s authorised users', async () => {
    await provider.admin.createService({
      shortname: 'restricted',
      name: 'Restricted',
      functions: [SITE_INFO],
    });
    const { token } = await account({ username: 'wsremoved', service: 'restricted' });
    expect((await rest(token)).json()).toMatchObject({ username: 'wsremoved' });
    await provider.admin.updateService('restricted', { authorisedUsernames: [] });
    expect((await rest(token)).text).toBe(recordedRest.accessexception);
  });

  it('refuses an account without the plugin’s capabilities, on the zip and on the download', async () => {
    const { token } = await account({
      username: 'wsnocaps',
      capabilities: { canRetrieveFilesFromOtherUsers: false, canCreateDraftUserFilesForOtherUsers: false },
    });
    expect((await rest(token)).json()).toMatchObject({ username: 'wsnocaps' });
    expect((await rest(token, ZIP, { username: 'alice' })).text).toBe(recordedRest.nopermissions);
    expect((await download(provider.url, relativepath, token)).body.toString()).toBe(
      recordedDownloadErrors.nopermissions.body,
    );
  });

  it('refuses downloads when the service’s download flag is off, while its functions still work', async () => {
    await provider.admin.createService({
      shortname: 'flagoff',
      name: 'Flag off',
      functions: [ZIP, SITE_INFO],
      downloadFiles: false,
    });
    const { token } = await account({ username: 'wsflagoff', service: 'flagoff' });
    expect((await rest(token)).json()).toMatchObject({ downloadfiles: 0 });
    expect((await rest(token, ZIP, { username: 'alice' })).json()).toMatchObject({
      filename: 'myprivatefiles.zip',
    });
    expect(await downloadError(token)).toMatchObject({ errorcode: 'accessexception' });
  });

  it('refuses a suspended account on the REST surface and on downloads', async () => {
    const { token } = await account({ username: 'wssuspended', suspended: true });
    expect((await rest(token)).json()).toEqual({
      exception: 'core\\exception\\moodle_exception',
      errorcode: 'wsaccessusersuspended',
      message: 'Refused web service access for suspended username: wssuspended',
    });
    expect((await download(provider.url, relativepath, token)).body.toString()).toBe(
      recordedDownloadErrors.wsaccessusersuspended.body,
    );
  });

  it('records the token’s last access', async () => {
    const { token, tokenId } = await account({ username: 'wsaccess' });
    const before = (await provider.admin.listTokens()).find((view) => view.id === tokenId);
    expect(before?.lastAccess).toBeNull();
    await rest(token);
    const after = (await provider.admin.listTokens()).find((view) => view.id === tokenId);
    expect(after?.lastAccess).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 5);
  });
});

describe('the caller’s address behind a reverse proxy', () => {
  const restricted = ['203.0.113.0/24'];

  const siteInfo = (provider: LaunchedProvider, token: string, forwardedFor: string) =>
    callRest(
      provider.url,
      { wstoken: token, wsfunction: SITE_INFO, moodlewsrestformat: 'json' },
      { headers: { 'x-forwarded-for': forwardedFor } },
    );

  it('is read from X-Forwarded-For when the peer is a trusted proxy', async () => {
    const provider = await launchRestProvider({ binaryBytes: 10, trustedProxies: ['127.0.0.1'] });
    try {
      const { token } = await addAccount(provider.admin, provider.provider.store, {
        username: 'wsproxied',
        ipRestriction: restricted,
      });
      expect((await siteInfo(provider, token, '203.0.113.9')).json()).toMatchObject({
        username: 'wsproxied',
      });
      expect((await siteInfo(provider, token, '203.0.113.9, 127.0.0.1')).json()).toMatchObject({
        username: 'wsproxied',
      });
      expect((await siteInfo(provider, token, '203.0.113.9, 198.51.100.1')).text).toBe(
        recordedRest.accessexception,
      );
    } finally {
      await provider.close();
    }
  });

  it('is the socket’s peer, whatever X-Forwarded-For says, when no proxy is trusted', async () => {
    const provider = await launchRestProvider({ binaryBytes: 10 });
    try {
      const { token } = await addAccount(provider.admin, provider.provider.store, {
        username: 'wsspoofer',
        ipRestriction: restricted,
      });
      expect((await siteInfo(provider, token, '203.0.113.9')).text).toBe(recordedRest.accessexception);
    } finally {
      await provider.close();
    }
  });
});
