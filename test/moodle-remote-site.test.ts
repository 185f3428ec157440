import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MoodleSite } from '../src/gateway/site.js';
import { createAgent } from '../src/moodle/agent.js';
import type { Result, SiteFailure } from '../src/moodle/failures.js';
import {
  createRemoteSite,
  PRIVATE_FILES_ZIP_FUNCTION,
  SITE_INFO_FUNCTION,
} from '../src/moodle/remote-site.js';
import {
  behaviours,
  type FaultInjector,
  moodleBodies,
  startFaultInjector,
} from './support/fault-injector.js';

const TOKEN = '0123456789abcdef0123456789abcdef';

let injector: FaultInjector;
let agent: Agent;
let site: MoodleSite;

beforeAll(async () => {
  injector = await startFaultInjector();
  agent = createAgent({ connectTimeoutMs: 2_000 });
  site = createRemoteSite({
    site: { id: 'peer', url: injector.url, token: TOKEN },
    dispatcher: agent,
    timeouts: { siteInfoMs: 2_000, zipMs: 2_000, downloadHeadersMs: 2_000, downloadIdleMs: 2_000 },
  });
});

afterAll(async () => {
  await injector.close();
  await agent.destroy();
});

function failureOf<T>(result: Result<T>): SiteFailure {
  if (result.ok) {
    throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  }
  return result.failure;
}

function withFields(fields: Record<string, unknown>, without: readonly string[] = []): string {
  const body: Record<string, unknown> = { ...JSON.parse(moodleBodies.siteInfo), ...fields };
  for (const name of without) {
    delete body[name];
  }
  return JSON.stringify(body);
}

describe('site info', () => {
  it('reads the fields the gateway needs and nothing else, so secrets are dropped', async () => {
    injector.setBehaviour(behaviours.moodle(moodleBodies.siteInfo));
    const request = injector.nextRequest();
    const result = await site.getSiteInfo();
    expect(result).toEqual({
      ok: true,
      value: {
        sitename: 'Peer Moodle 4.5',
        siteurl: 'http://127.0.0.1:8081',
        release: '4.5 (Build: 20241007)',
        version: '2024100700',
        lang: 'en',
        username: 'block_my_external_privatefiles_user',
        downloadfiles: true,
        uploadfiles: false,
        functions: [
          { name: 'block_my_external_privatefiles_get_private_files_zip', version: '2023053000' },
          { name: 'core_webservice_get_site_info', version: '2024100700' },
        ],
      },
    });
    expect(JSON.stringify(result)).not.toContain('251af9f2e88f83959e323352be034588');
    expect((await request).form.wsfunction).toBe(SITE_INFO_FUNCTION);
  });

  it('accepts booleans as true/false as well as 1/0, and absent optional fields', async () => {
    injector.setBehaviour(
      behaviours.moodle(withFields({ downloadfiles: true, uploadfiles: 1 }, ['release', 'version', 'lang'])),
    );
    expect(await site.getSiteInfo()).toMatchObject({
      ok: true,
      value: { downloadfiles: true, uploadfiles: true, release: null, version: null, lang: null },
    });
  });

  it.each([
    ['without sitename', withFields({}, ['sitename'])],
    ['without functions', withFields({}, ['functions'])],
    ['with a function that has no name', withFields({ functions: [{ version: '1' }] })],
    ['that is a list', '[]'],
    ['that is null', 'null'],
  ])('answers BAD_RESPONSE for site info %s', async (_case, body) => {
    injector.setBehaviour(behaviours.moodle(body));
    const failure = failureOf(await site.getSiteInfo());
    expect(failure.code).toBe('BAD_RESPONSE');
    expect(failure.message).toContain('site info of an unexpected shape');
  });

  it('passes on the failures of the call', async () => {
    injector.setBehaviour(behaviours.moodle(moodleBodies.invalidToken));
    expect(failureOf(await site.getSiteInfo()).code).toBe('INVALID_TOKEN');
  });

  it('gives up at the site-info deadline', async () => {
    const impatient = createRemoteSite({
      site: { id: 'peer', url: injector.url, token: TOKEN },
      dispatcher: agent,
      timeouts: { siteInfoMs: 300 },
    });
    injector.setBehaviour(behaviours.neverAnswer());
    const started = performance.now();
    expect(failureOf(await impatient.getSiteInfo()).code).toBe('TIMEOUT');
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('the private files zip', () => {
  it('returns the descriptor of the zip the site made', async () => {
    injector.setBehaviour(behaviours.moodle(moodleBodies.privateFilesZip));
    expect(await site.createPrivateFilesZip('alice')).toEqual({
      ok: true,
      value: {
        contextid: 12,
        component: 'user',
        filearea: 'draft',
        itemid: 451539184,
        filepath: '/',
        filename: 'myprivatefiles.zip',
        relativepath: '/12/user/draft/451539184/myprivatefiles.zip',
      },
    });
  });

  it.each(['ALICE', ' alice ', 'Alice', 'élodie+test@example.com', ''])(
    'sends the username %j exactly as given',
    async (username) => {
      injector.setBehaviour(behaviours.moodle(moodleBodies.privateFilesZip));
      const request = injector.nextRequest();
      await site.createPrivateFilesZip(username);
      const received = await request;
      expect(received.form).toEqual({
        wstoken: TOKEN,
        wsfunction: PRIVATE_FILES_ZIP_FUNCTION,
        moodlewsrestformat: 'json',
        username,
      });
      expect(received.query).toEqual({});
    },
  );

  it("maps the zip function's invalidparameter to USER_NOT_FOUND", async () => {
    injector.setBehaviour(behaviours.moodle(moodleBodies.invalidParameter));
    const failure = failureOf(await site.createPrivateFilesZip('ALICE'));
    expect(failure).toMatchObject({
      code: 'USER_NOT_FOUND',
      remoteErrorCode: 'invalidparameter',
      retryable: false,
    });
    expect(failure.message).toContain('"ALICE"');
  });

  it.each([
    ['English', moodleBodies.noFilesEnglish],
    ['French', moodleBodies.noFilesFrench],
  ])('maps the %s empty-area answer to NO_FILES', async (_language, body) => {
    injector.setBehaviour(behaviours.moodle(body));
    expect(failureOf(await site.createPrivateFilesZip('alice')).code).toBe('NO_FILES');
  });

  it.each([
    ['without relativepath', { relativepath: undefined }],
    ['with a relativepath leaving the draft area', { relativepath: '/12/../../../config.php' }],
    ['with a relativepath carrying a query', { relativepath: '/12/user/draft/1/a.zip?x=1' }],
    ['with a text itemid', { itemid: '451539184' }],
  ])('answers BAD_RESPONSE for a descriptor %s', async (_case, change) => {
    injector.setBehaviour(
      behaviours.moodle(JSON.stringify({ ...JSON.parse(moodleBodies.privateFilesZip), ...change })),
    );
    const failure = failureOf(await site.createPrivateFilesZip('alice'));
    expect(failure.code).toBe('BAD_RESPONSE');
    expect(failure.message).toContain('zip descriptor of an unexpected shape');
  });

  it('never retries the zip call, since each call builds a new zip', async () => {
    for (const behaviour of [behaviours.maintenance(), behaviours.html(500), behaviours.neverAnswer()]) {
      const quick = createRemoteSite({
        site: { id: 'peer', url: injector.url, token: TOKEN },
        dispatcher: agent,
        timeouts: { zipMs: 300 },
      });
      injector.setBehaviour(behaviour);
      const before = injector.requests.length;
      expect((await quick.createPrivateFilesZip('alice')).ok).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(injector.requests.length - before).toBe(1);
    }
  });
});

describe('the download of a zip', () => {
  it('opens the draft file the descriptor names', async () => {
    const zip = Buffer.from('PK\u0005\u0006'.padEnd(22, '\u0000'), 'latin1');
    injector.setBehaviour(behaviours.zip(zip));
    const request = injector.nextRequest();
    const result = await site.openDownload('/12/user/draft/451539184/myprivatefiles.zip');
    if (!result.ok) {
      throw new Error(result.failure.message);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of result.value.body) {
      chunks.push(chunk as Buffer);
    }
    expect(Buffer.concat(chunks).equals(zip)).toBe(true);
    expect((await request).path).toBe(
      '/blocks/my_external_privatefiles/get_user_draft_file_webservice.php/12/user/draft/451539184/myprivatefiles.zip',
    );
  });
});
