import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount } from './support/rest-accounts.js';
import { callRest, download } from './support/rest-call.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';
import { recordedDownloadErrors, recordedDownloadHeaders } from './support/rest-recorded-exchanges.js';

describe('the draft-file download against the recorded Moodle answers', () => {
  let provider: LaunchedProvider;
  let relativepath = '';

  beforeAll(async () => {
    provider = await launchRestProvider({ binaryBytes: 50_000 });
    const zip = await callRest(provider.url, {
      wstoken: provider.token,
      wsfunction: 'block_my_external_privatefiles_get_private_files_zip',
      moodlewsrestformat: 'json',
      username: 'alice',
    });
    ({ relativepath } = zip.json() as { relativepath: string });
  });
  afterAll(() => provider?.close());

  it('sends the zip with Moodle’s headers, in Moodle’s order', async () => {
    const fetched = await download(provider.url, relativepath, provider.token);
    expect(fetched.status).toBe(200);
    const recordedNames = recordedDownloadHeaders.map(([name]) => name.toLowerCase());
    expect(fetched.headerNames.filter((name) => recordedNames.includes(name))).toEqual(recordedNames);
    const value = (name: string) => fetched.headers[name.toLowerCase()];
    for (const [name, recorded] of recordedDownloadHeaders) {
      if (['Etag', 'Last-Modified', 'Content-Length'].includes(name)) continue;
      expect(value(name), name).toBe(recorded);
    }
    expect(value('Etag')).toBe(`"${createHash('sha1').update(fetched.body).digest('hex')}"`);
    expect(value('Last-Modified')).toMatch(
      /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
    );
    expect(value('Content-Length')).toBe(String(fetched.body.length));
    expect(fetched.body.subarray(0, 4)).toEqual(Buffer.from('PK\x03\x04', 'latin1'));
  });

  const expectRecorded = (
    fetched: Awaited<ReturnType<typeof download>>,
    recorded: (typeof recordedDownloadErrors)[keyof typeof recordedDownloadErrors],
  ) => {
    expect(fetched.status).toBe(recorded.status);
    expect(fetched.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(fetched.body.toString('utf8')).toBe(recorded.body);
  };

  it('answers invalidtoken for a bad token', async () => {
    expectRecorded(await download(provider.url, relativepath, 'nope'), recordedDownloadErrors.invalidtoken);
  });

  it('answers missingparam when there is no token', async () => {
    expectRecorded(
      await download(provider.url, relativepath, undefined),
      recordedDownloadErrors.missingparam,
    );
  });

  it('answers invalidarguments for a path too short to name a file area', async () => {
    expectRecorded(
      await download(provider.url, '/12/user', provider.token),
      recordedDownloadErrors.invalidarguments,
    );
    expectRecorded(await download(provider.url, '', provider.token), recordedDownloadErrors.invalidarguments);
  });

  it('answers 404 filenotfound for a draft file that does not exist', async () => {
    const [, contextid, , , itemid] = relativepath.split('/');
    const other = Number(itemid) === 999_999_999 ? 999_999_998 : 999_999_999;
    for (const path of [
      `/${contextid}/user/draft/${other}/myprivatefiles.zip`,
      `/${contextid}/user/draft/${itemid}/other.zip`,
      `/${contextid}/user/draft/${itemid}/sub/myprivatefiles.zip`,
      `/${contextid}/user/private/${itemid}/myprivatefiles.zip`,
      `/${Number(contextid) + 1}/user/draft/${itemid}/myprivatefiles.zip`,
      `/abc/user/draft/${itemid}/myprivatefiles.zip`,
    ]) {
      expectRecorded(await download(provider.url, path, provider.token), recordedDownloadErrors.filenotfound);
    }
  });

  it('answers nopermissions to an account without the capability to retrieve other users’ files', async () => {
    const account = await addAccount(provider.admin, provider.provider.store, {
      username: 'wsnoretrieve',
      capabilities: { canRetrieveFilesFromOtherUsers: false, canCreateDraftUserFilesForOtherUsers: true },
    });
    expectRecorded(
      await download(provider.url, relativepath, account.token),
      recordedDownloadErrors.nopermissions,
    );
  });

  it('answers accessexception when the service may not download files', async () => {
    await provider.admin.createService({
      shortname: 'nodownload',
      name: 'No download',
      functions: ['block_my_external_privatefiles_get_private_files_zip'],
      downloadFiles: false,
    });
    const account = await addAccount(provider.admin, provider.provider.store, {
      username: 'wsnodownload',
      service: 'nodownload',
    });
    expectRecorded(
      await download(provider.url, relativepath, account.token),
      recordedDownloadErrors.accessexception,
    );
  });

  it('answers wsaccessusersuspended for a suspended account', async () => {
    const account = await addAccount(provider.admin, provider.provider.store, {
      username: 'wsdlsusp',
      suspended: true,
    });
    expectRecorded(
      await download(provider.url, relativepath, account.token),
      recordedDownloadErrors.wsaccessusersuspended,
    );
  });

  it('also reads the path from ?file= as Moodle does without slash arguments', async () => {
    const fetched = await download(
      provider.url,
      `?file=${encodeURIComponent(relativepath)}&token=${provider.token}`,
      undefined,
    );
    expect(fetched.status).toBe(200);
    expect(fetched.headers['content-type']).toBe('application/zip');
  });
});
