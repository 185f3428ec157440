import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount } from './support/rest-accounts.js';
import { callRest } from './support/rest-call.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';
import { recordedRest, recordedRestHeaders } from './support/rest-recorded-exchanges.js';

const ZIP = 'block_my_external_privatefiles_get_private_files_zip';
const SITE_INFO = 'core_webservice_get_site_info';

describe('web-service errors against the recorded Moodle bodies', () => {
  let provider: LaunchedProvider;

  beforeAll(async () => {
    provider = await launchRestProvider({ binaryBytes: 10 });
  });
  afterAll(() => provider?.close());

  const call = (fields: Record<string, string>) =>
    callRest(provider.url, { moodlewsrestformat: 'json', ...fields });

  it('answers every error with HTTP 200 and Moodle’s JSON headers', async () => {
    const answer = await call({ wstoken: 'nope', wsfunction: SITE_INFO });
    expect(answer.status).toBe(200);
    expect(answer.headers).toMatchObject(recordedRestHeaders.json);
  });

  it.each([
    ['an unknown token', { wstoken: '0123456789abcdef0123456789abcdef', wsfunction: SITE_INFO }],
    ['a token of another format', { wstoken: 'x', wsfunction: SITE_INFO }],
    ['an empty token', { wstoken: '', wsfunction: SITE_INFO }],
    ['no token', { wsfunction: SITE_INFO }],
  ])('answers invalidtoken for %s', async (_case, fields) => {
    expect((await call(fields)).text).toBe(recordedRest.invalidtoken);
  });

  it('checks the token before the function, as Moodle does', async () => {
    expect((await call({ wstoken: 'x', wsfunction: 'no_such_function' })).text).toBe(
      recordedRest.invalidtoken,
    );
  });

  it('answers invalidparameter when wsfunction is missing', async () => {
    expect((await call({ wstoken: provider.token })).text).toBe(recordedRest.invalidparameter);
  });

  it('answers invalidrecord for a function that does not exist', async () => {
    expect((await call({ wstoken: provider.token, wsfunction: 'core_user_get_users' })).text).toBe(
      recordedRest.invalidrecord,
    );
  });

  it('answers accessexception for a function that exists but is not in the token’s service', async () => {
    await provider.admin.createService({
      shortname: 'siteinfoonly',
      name: 'Site info only',
      functions: [SITE_INFO],
      restrictedUsers: false,
    });
    const account = await addAccount(provider.admin, provider.provider.store, {
      username: 'wsother',
      service: 'siteinfoonly',
    });
    expect((await call({ wstoken: account.token, wsfunction: SITE_INFO })).json()).toMatchObject({
      username: 'wsother',
      functions: [{ name: SITE_INFO, version: '2024100700' }],
    });
    expect((await call({ wstoken: account.token, wsfunction: ZIP, username: 'alice' })).text).toBe(
      recordedRest.accessexception,
    );
  });

  it('answers nopermissions to an account without the capability to create draft files for others', async () => {
    const account = await addAccount(provider.admin, provider.provider.store, {
      username: 'wsnocap',
      capabilities: { canRetrieveFilesFromOtherUsers: true, canCreateDraftUserFilesForOtherUsers: false },
    });
    expect((await call({ wstoken: account.token, wsfunction: ZIP, username: 'alice' })).text).toBe(
      recordedRest.nopermissions,
    );
  });

  it('refuses a suspended account with wsaccessusersuspended naming it', async () => {
    const account = await addAccount(provider.admin, provider.provider.store, {
      username: 'wssusp',
      suspended: true,
    });
    expect((await call({ wstoken: account.token, wsfunction: SITE_INFO })).text).toBe(
      recordedRest.wsaccessusersuspended,
    );
  });

  it('writes each error in XML with its class, code and message when no format is asked', async () => {
    const answer = await callRest(provider.url, { wstoken: 'x', wsfunction: SITE_INFO });
    expect(answer.headers).toMatchObject(recordedRestHeaders.xml);
    expect(answer.text).toBe(
      '<?xml version="1.0" encoding="UTF-8" ?>\n' +
        '<EXCEPTION class="core\\exception\\moodle_exception">\n' +
        '<ERRORCODE>invalidtoken</ERRORCODE>\n' +
        '<MESSAGE>Invalid token - token not found</MESSAGE>\n' +
        '</EXCEPTION>\n',
    );
  });

  it('reads the fields from the query string too, the form body winning as in PHP', async () => {
    const response = await request(
      `${provider.url}/webservice/rest/server.php?moodlewsrestformat=json&wsfunction=no_such_function`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ wstoken: provider.token, wsfunction: SITE_INFO }).toString(),
      },
    );
    expect(await response.body.json()).toMatchObject({ username: 'block_my_external_privatefiles_user' });
  });

  it('ignores a body that is not a form, as PHP does', async () => {
    const response = await request(`${provider.url}/webservice/rest/server.php?moodlewsrestformat=json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ wstoken: provider.token, wsfunction: SITE_INFO }),
    });
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe(recordedRest.invalidtoken);
  });
});

describe('web-service errors of a provider in debug mode', () => {
  let provider: LaunchedProvider;

  beforeAll(async () => {
    provider = await launchRestProvider({ debug: true, binaryBytes: 10 });
  });
  afterAll(() => provider?.close());

  it('add the real reason as a fourth key, debuginfo, as a Moodle in debug mode does', async () => {
    const answer = await callRest(provider.url, {
      wstoken: provider.token,
      wsfunction: ZIP,
      moodlewsrestformat: 'json',
      username: 'ALICE',
    });
    expect(answer.text).toBe(
      `${recordedRest.invalidparameter.slice(0, -1)},"debuginfo":"user with username not found"}`,
    );
  });

  it('never put the token into debuginfo', async () => {
    const wrong = '0123456789abcdef0123456789abcdef';
    const answer = await callRest(provider.url, {
      wstoken: wrong,
      wsfunction: SITE_INFO,
      moodlewsrestformat: 'json',
    });
    expect(answer.json()).toMatchObject({ errorcode: 'invalidtoken', debuginfo: expect.any(String) });
    expect(answer.text).not.toContain(wrong);
  });
});
