import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRest } from './support/rest-call.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';
import { keyPaths, recordedRest, recordedRestHeaders, shapeOf } from './support/rest-recorded-exchanges.js';

const FUNCTION = 'core_webservice_get_site_info';

describe('core_webservice_get_site_info against the recorded Moodle answer', () => {
  let provider: LaunchedProvider;
  const recorded = JSON.parse(recordedRest.siteInfo) as Record<string, unknown>;

  beforeAll(async () => {
    provider = await launchRestProvider({ siteName: 'Peer Moodle 4.5' });
  });
  afterAll(() => provider?.close());

  const siteInfo = (format: string | null = 'json', method: 'GET' | 'POST' = 'POST') =>
    callRest(
      provider.url,
      {
        wstoken: provider.token,
        wsfunction: FUNCTION,
        ...(format === null ? {} : { moodlewsrestformat: format }),
      },
      { method },
    );

  it('has the same keys, in the same order, with the same types', async () => {
    const answer = await siteInfo();
    const body = answer.json();
    expect(keyPaths(body)).toEqual(keyPaths(recorded));
    expect(shapeOf(body)).toEqual(shapeOf(recorded));
  });

  it('is sent with HTTP 200 and Moodle’s headers', async () => {
    const answer = await siteInfo();
    expect(answer.status).toBe(200);
    expect(answer.headers).toMatchObject(recordedRestHeaders.json);
  });

  it('escapes slashes as PHP does, and names the provider’s own URL as the site URL', async () => {
    const answer = await siteInfo();
    const body = answer.json() as Record<string, unknown>;
    expect(body.siteurl).toBe(provider.url);
    expect(answer.text).toContain(`"siteurl":"${provider.url.replaceAll('/', '\\/')}"`);
    expect(body.userpictureurl).toBe(`${provider.url}/theme/image.php/boost/core/1795303220/u/f1`);
  });

  it('describes the account and its service as the recorded site does', async () => {
    const body = (await siteInfo()).json() as Record<string, unknown>;
    for (const key of [
      'sitename',
      'username',
      'firstname',
      'lastname',
      'fullname',
      'lang',
      'functions',
      'downloadfiles',
      'uploadfiles',
      'release',
      'version',
      'advancedfeatures',
      'userissiteadmin',
    ]) {
      expect(body[key], key).toEqual(recorded[key]);
    }
  });

  it('never hands out the token as the account’s private access key', async () => {
    const body = (await siteInfo()).json() as Record<string, unknown>;
    expect(body.userprivateaccesskey).toMatch(/^[0-9a-f]{32}$/);
    expect(body.userprivateaccesskey).not.toBe(provider.token);
  });

  it('answers the same to a GET with the fields in the query string', async () => {
    const viaGet = (await siteInfo('json', 'GET')).json();
    expect(viaGet).toEqual((await siteInfo()).json());
  });

  it('answers XML when no format is asked, every key present, absent optional fields as null, booleans as 1/0', async () => {
    const answer = await siteInfo(null);
    expect(answer.status).toBe(200);
    expect(answer.headers).toMatchObject(recordedRestHeaders.xml);
    const xml = answer.text;
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n<SINGLE>\n')).toBe(true);
    expect(xml.endsWith('</SINGLE>\n</RESPONSE>\n')).toBe(true);
    const topLevel: string[] = [];
    let depth = 0;
    for (const [tag, name] of xml.matchAll(/<\/?SINGLE>|<KEY name="([a-z_]+)">/g)) {
      if (tag === '<SINGLE>') depth += 1;
      else if (tag === '</SINGLE>') depth -= 1;
      else if (depth === 1 && name) topLevel.push(name);
    }
    const expected = Object.keys(recorded);
    expected.splice(expected.indexOf('userprivateaccesskey'), 0, 'userhomepageurl');
    expected.splice(expected.indexOf('policyagreed'), 0, 'usersessionscount');
    expect(topLevel).toEqual(expected);
    expect(xml).toContain('<KEY name="usercanmanageownfiles"><VALUE>1</VALUE>\n</KEY>\n');
    expect(xml).toContain('<KEY name="userissiteadmin"><VALUE>0</VALUE>\n</KEY>\n');
    expect(xml).toContain('<KEY name="userhomepageurl"><VALUE null="null"/>\n</KEY>\n');
    expect(xml).toContain(
      '<KEY name="functions"><MULTIPLE>\n<SINGLE>\n' +
        '<KEY name="name"><VALUE>block_my_external_privatefiles_get_private_files_zip</VALUE>\n</KEY>\n',
    );
    expect(xml).toContain(`<KEY name="siteurl"><VALUE>${provider.url}</VALUE>\n</KEY>\n`);
  });

  it('treats any format other than json as XML, as Moodle does', async () => {
    const answer = await siteInfo('yaml');
    expect(answer.headers['content-type']).toBe('application/xml; charset=utf-8');
  });
});
