import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount } from './support/rest-accounts.js';
import { callRest, download } from './support/rest-call.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';
import {
  keyPaths,
  recordedRest,
  recordedRestHeaders,
  recordedXml,
  shapeOf,
} from './support/rest-recorded-exchanges.js';
import { readZip } from './support/zip-read.js';

const FUNCTION = 'block_my_external_privatefiles_get_private_files_zip';

interface Descriptor {
  readonly contextid: number;
  readonly itemid: number;
  readonly relativepath: string;
}

describe('block_my_external_privatefiles_get_private_files_zip against the recorded Moodle answers', () => {
  let provider: LaunchedProvider;

  beforeAll(async () => {
    provider = await launchRestProvider({ binaryBytes: 100_000 });
  });
  afterAll(() => provider?.close());

  const zipOf = (username: string | undefined, format: string | null = 'json', token = provider.token) =>
    callRest(provider.url, {
      wstoken: token,
      wsfunction: FUNCTION,
      ...(format === null ? {} : { moodlewsrestformat: format }),
      ...(username === undefined ? {} : { username }),
    });

  it('describes the new draft file with the same keys, order and types', async () => {
    const answer = await zipOf('alice');
    expect(answer.status).toBe(200);
    expect(answer.headers).toMatchObject(recordedRestHeaders.json);
    const body = answer.json() as Descriptor & Record<string, unknown>;
    const recorded = JSON.parse(recordedRest.privateFilesZip) as Record<string, unknown>;
    expect(keyPaths(body)).toEqual(keyPaths(recorded));
    expect(shapeOf(body)).toEqual(shapeOf(recorded));
    expect(body).toMatchObject({
      component: 'user',
      filearea: 'draft',
      filepath: '/',
      filename: 'myprivatefiles.zip',
    });
    expect(body.itemid).toBeGreaterThanOrEqual(100_000_000);
    expect(body.relativepath).toBe(`/${body.contextid}/user/draft/${body.itemid}/myprivatefiles.zip`);
    expect(answer.text).toContain(`"filepath":"\\/"`);
  });

  it('makes a new draft item at every call', async () => {
    const first = (await zipOf('alice')).json() as Descriptor;
    const second = (await zipOf('alice')).json() as Descriptor;
    expect(second.itemid).not.toBe(first.itemid);
  });

  it('builds a zip holding exactly the user’s files and folders, stored without compression', async () => {
    const { relativepath } = (await zipOf('alice')).json() as Descriptor;
    const fetched = await download(provider.url, relativepath, provider.token);
    expect(fetched.status).toBe(200);
    const entries = await readZip(fetched.body);

    const { store } = provider.provider;
    const alice = await store.users.getByUsername('alice');
    if (!alice) throw new Error('alice is not seeded');
    const files = await store.files.list(alice.id);
    const expectedFiles = new Map<string, Buffer>();
    const expectedFolders = new Set<string>();
    for (const file of files) {
      const stream = await store.blobs.openRead(file.contenthash);
      if (!stream) throw new Error(`blob of ${file.filename} missing`);
      expectedFiles.set(`${file.filepath.slice(1)}${file.filename}`, await buffer(stream));
      const segments = file.filepath.split('/').filter(Boolean);
      for (let depth = 1; depth <= segments.length; depth++) {
        expectedFolders.add(`${segments.slice(0, depth).join('/')}/`);
      }
    }
    expect(expectedFiles.size).toBeGreaterThanOrEqual(3);

    const folders = entries.filter((entry) => entry.isDirectory).map((entry) => entry.name);
    expect(new Set(folders)).toEqual(expectedFolders);
    const zippedFiles = entries.filter((entry) => !entry.isDirectory);
    expect(new Map(zippedFiles.map((entry) => [entry.name, entry.data]))).toEqual(expectedFiles);
    expect(zippedFiles).toHaveLength(expectedFiles.size);
    expect(zippedFiles.every((entry) => entry.compressionMethod === 0)).toBe(true);
    for (const folder of folders) {
      const firstInside = entries.findIndex(
        (entry) => entry.name !== folder && entry.name.startsWith(folder),
      );
      expect(entries.findIndex((entry) => entry.name === folder)).toBeLessThan(firstInside);
    }
  });

  it('answers in XML line for line as Moodle, when no format is asked', async () => {
    const answer = await zipOf('alice', null);
    expect(answer.headers).toMatchObject(recordedRestHeaders.xml);
    const match = /<KEY name="itemid"><VALUE>(\d+)<\/VALUE>/.exec(answer.text);
    const contextid = /<KEY name="contextid"><VALUE>(\d+)<\/VALUE>/.exec(answer.text)?.[1];
    const expected = recordedXml.privateFilesZip
      .replaceAll('506543127', match?.[1] ?? 'missing')
      .replaceAll('<VALUE>12</VALUE>', `<VALUE>${contextid}</VALUE>`)
      .replaceAll('/12/', `/${contextid}/`);
    expect(answer.text).toBe(expected);
  });

  it('answers the plugin’s exception, without an errorcode, for a user whose private area is empty', async () => {
    const answer = await zipOf('bob');
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(recordedRest.emptyAreaEnglish);
  });

  it('gives the empty-area message in the account’s language', async () => {
    const french = await addAccount(provider.admin, provider.provider.store, {
      username: 'wsfr',
      lang: 'fr',
    });
    const answer = await zipOf('bob', 'json', french.token);
    expect(answer.json()).toEqual(JSON.parse(recordedRest.emptyAreaFrench));
    expect(answer.text).toContain('\\u00e9');
  });

  it.each(['ALICE', 'Alice', ' alice ', 'alice ', 'nobody', ''])(
    'answers invalidparameter for the username %j, matched exactly as Moodle does',
    async (username) => {
      const answer = await zipOf(username);
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(recordedRest.invalidparameter);
    },
  );

  it('answers invalidparameter when the username is missing', async () => {
    expect((await zipOf(undefined)).text).toBe(recordedRest.invalidparameter);
  });

  it('answers the XML invalidparameter exception line for line', async () => {
    expect((await zipOf('ALICE', null)).text).toBe(recordedXml.invalidparameter);
  });
});

describe('the empty-area message of a provider whose site language is French', () => {
  let provider: LaunchedProvider;

  beforeAll(async () => {
    provider = await launchRestProvider({ lang: 'fr', binaryBytes: 10 });
  });
  afterAll(() => provider?.close());

  it('is French for an account whose language the provider has no strings for', async () => {
    const german = await addAccount(provider.admin, provider.provider.store, {
      username: 'wsde',
      lang: 'de',
    });
    const answer = await callRest(provider.url, {
      wstoken: german.token,
      wsfunction: FUNCTION,
      moodlewsrestformat: 'json',
      username: 'bob',
    });
    expect(answer.json()).toEqual(JSON.parse(recordedRest.emptyAreaFrench));
  });
});
