import { Readable } from 'node:stream';
import { parse as parseContentDisposition } from 'content-disposition';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignedLinks } from '../src/gateway/signed-links.js';
import {
  type Behaviour,
  behaviours,
  type FaultInjector,
  moodleBodies,
  startFaultInjector,
  zipHeaders,
  zipLikeBytes,
} from './support/fault-injector.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';
import { readZip } from './support/zip-read.js';

const LINK_SECRET = 'download-test-secret-0123456789abcdef0123';

const ZIP_QUERY = `query($site: ID!, $username: String!) {
  privateFilesZip(site: $site, username: $username) {
    __typename
    ... on PrivateFilesZip {
      site username filename downloadUrl expiresAt
      remote { contextid component filearea itemid filepath filename relativepath }
    }
    ... on SiteFailure { code message }
  }
}`;

interface ZipAnswer {
  __typename: string;
  site: string;
  username: string;
  filename: string;
  downloadUrl: string;
  expiresAt: string;
  remote: { relativepath: string; component: string; filearea: string; filepath: string };
}

const carolFiles = [
  { filepath: '/', filename: 'cv.txt', content: Buffer.from('Carol’s CV — plain text\n') },
  { filepath: '/thesis/chapters/', filename: 'one.md', content: Buffer.from('# Chapter one\n') },
  {
    filepath: '/thesis/',
    filename: 'data.bin',
    content: Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256)),
  },
];

describe('downloading a zip through the gateway', () => {
  let provider: LaunchedProvider;
  let gateway: TestGateway;

  beforeAll(async () => {
    provider = await launchRestProvider({ siteName: 'Faculté des Lettres' });
    await provider.admin.createUser({ username: 'carol', firstname: 'Carol', lastname: 'Example' });
    for (const file of carolFiles) {
      await provider.admin.uploadPrivateFile({
        username: 'carol',
        filepath: file.filepath,
        filename: file.filename,
        content: Readable.from([file.content]),
      });
    }
    gateway = await startTestGateway({
      sites: [{ id: 'lettres', url: provider.url, token: provider.token }],
      downloadLinks: { secret: LINK_SECRET },
    });
  });
  afterAll(async () => {
    await gateway.close();
    await provider.close();
  });

  async function zipFor(username: string): Promise<ZipAnswer> {
    const { body } = await gateway.graphql<{ privateFilesZip: ZipAnswer }>(ZIP_QUERY, {
      site: 'lettres',
      username,
    });
    const zip = body.data?.privateFilesZip;
    expect(zip?.__typename).toBe('PrivateFilesZip');
    return zip as ZipAnswer;
  }

  it('answers the remote descriptor, a file name after the block, and a link that expires', async () => {
    const zip = await zipFor('carol');
    expect(zip).toMatchObject({ site: 'lettres', username: 'carol' });
    expect(zip.filename).toMatch(/^my_privatefiles_Facult__des_Lettres_\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.zip$/);
    expect(zip.remote).toMatchObject({ component: 'user', filearea: 'draft', filepath: '/' });
    expect(zip.remote.relativepath).toMatch(/^\/\d+\/user\/draft\/\d+\/myprivatefiles\.zip$/);
    expect(zip.downloadUrl.startsWith(`${gateway.url}/download/`)).toBe(true);
    const ttl = new Date(zip.expiresAt).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(250_000);
    expect(ttl).toBeLessThanOrEqual(300_000);
  });

  it('streams a zip that holds exactly the files put in, folders kept', async () => {
    const zip = await zipFor('carol');
    const response = await request(zip.downloadUrl);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/zip');
    const disposition = parseContentDisposition(String(response.headers['content-disposition']));
    expect(disposition).toEqual({ type: 'attachment', parameters: { filename: zip.filename } });
    const bytes = Buffer.from(await response.body.arrayBuffer());
    expect(Number(response.headers['content-length'])).toBe(bytes.length);
    const entries = await readZip(bytes);
    const files = entries.filter((entry) => !entry.isDirectory);
    expect(files.map((entry) => entry.name).sort()).toEqual([
      'cv.txt',
      'thesis/chapters/one.md',
      'thesis/data.bin',
    ]);
    for (const file of carolFiles) {
      const name = `${file.filepath}${file.filename}`.slice(1);
      expect(files.find((entry) => entry.name === name)?.data.equals(file.content)).toBe(true);
    }
    expect(entries.filter((entry) => entry.isDirectory).map((entry) => entry.name)).toEqual(
      expect.arrayContaining(['thesis/', 'thesis/chapters/']),
    );
  });

  it('needs no header: a browser follows the link as it is', async () => {
    const zip = await zipFor('alice');
    const response = await request(zip.downloadUrl, { headers: { accept: 'text/html,*/*' } });
    expect(response.statusCode).toBe(200);
    await response.body.dump();
  });

  it('refuses a link edited in any part: 403', async () => {
    const zip = await zipFor('carol');
    const token = zip.downloadUrl.slice(zip.downloadUrl.lastIndexOf('/') + 1);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const edit = (change: Record<string, unknown>) =>
      `${header}.${Buffer.from(JSON.stringify({ ...claims, ...change })).toString('base64url')}.${signature}`;
    const forgeries = {
      'another user': edit({ usr: 'alice' }),
      'another site': edit({ site: 'other' }),
      'another file': edit({ path: '/1/user/draft/1/myprivatefiles.zip' }),
      'a later expiry': edit({ exp: Number(claims.exp) + 3600 }),
      'a changed signature': `${header}.${payload}.${signature.slice(0, -2)}AA`,
      'no signature': `${header}.${payload}.`,
      'alg none': `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`,
      garbage: 'not-a-link',
    };
    for (const [what, forged] of Object.entries(forgeries)) {
      const response = await request(`${gateway.url}/download/${forged}`, {
        headers: { accept: 'application/json' },
      });
      const body = (await response.body.json()) as { error: { code: string } };
      expect({ what, status: response.statusCode, code: body.error.code }).toEqual({
        what,
        status: 403,
        code: 'LINK_INVALID',
      });
    }
  });

  it('refuses an expired link with 410 and a page that says so', async () => {
    const zip = await zipFor('carol');
    const past = createSignedLinks({
      secret: new TextEncoder().encode(LINK_SECRET),
      ttlSeconds: 60,
      now: () => new Date(Date.now() - 3_600_000),
    });
    const { token } = await past.sign({
      tenant: 'default',
      site: 'lettres',
      username: 'carol',
      relativepath: zip.remote.relativepath,
      filename: zip.filename,
    });
    const response = await request(`${gateway.url}/download/${token}`);
    expect(response.statusCode).toBe(410);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(await response.body.text()).toContain('expired');
  });

  it('answers a remote zip that is gone with a 502 page naming the site, in JSON when asked', async () => {
    const zip = await zipFor('carol');
    const links = createSignedLinks({ secret: new TextEncoder().encode(LINK_SECRET) });
    const { token } = await links.sign({
      tenant: 'default',
      site: 'lettres',
      username: 'carol',
      relativepath: zip.remote.relativepath.replace(/\/\d+\/myprivatefiles/, '/999/myprivatefiles'),
      filename: zip.filename,
    });
    const response = await request(`${gateway.url}/download/${token}`, {
      headers: { accept: 'application/json' },
    });
    expect(response.statusCode).toBe(502);
    const body = (await response.body.json()) as {
      error: { code: string; message: string; siteUrl: string };
    };
    expect(body.error).toMatchObject({ code: 'REMOTE_ERROR', siteUrl: provider.url });
    expect(body.error.message).toMatch(/^lettres: /);
  });
});

describe('a download that breaks', () => {
  let moodle: FaultInjector;
  let gateway: TestGateway;
  const zipBytes = zipLikeBytes(64 * 1024, 7);

  beforeAll(async () => {
    moodle = await startFaultInjector();
    gateway = await startTestGateway({
      sites: [
        { id: 'peer', url: moodle.url, token: 'peer-token-0123456789', timeouts: { downloadIdleMs: 400 } },
      ],
    });
  });
  afterAll(async () => {
    await gateway.close();
    await moodle.close();
  });

  async function linkFromPeer(download: Behaviour): Promise<string> {
    moodle.setBehaviour((request) => {
      if (request.path.endsWith('/server.php')) {
        return request.form.wsfunction === 'core_webservice_get_site_info'
          ? behaviours.moodle(moodleBodies.siteInfo)
          : behaviours.moodle(moodleBodies.privateFilesZip);
      }
      return download;
    });
    const { body } = await gateway.graphql<{ privateFilesZip: ZipAnswer }>(ZIP_QUERY, {
      site: 'peer',
      username: 'alice',
    });
    return body.data?.privateFilesZip.downloadUrl as string;
  }

  it('cuts the connection when the body ends before its Content-Length, so no truncated file looks complete', async () => {
    const url = await linkFromPeer({
      kind: 'short-body',
      headers: zipHeaders(),
      body: zipBytes.subarray(0, 1000),
      declaredLength: zipBytes.length,
    });
    const response = await request(url);
    expect(response.statusCode).toBe(200);
    await expect(response.body.arrayBuffer()).rejects.toThrow();
  });

  it('cuts the connection when the site stalls mid-body past the idle deadline', async () => {
    const url = await linkFromPeer({
      kind: 'stall-after-headers',
      headers: zipHeaders(zipBytes.length),
      body: zipBytes.subarray(0, 10),
    });
    const started = performance.now();
    const response = await request(url);
    await expect(response.body.arrayBuffer()).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('answers a JSON error sent with status 200 as a failure page, not as a zip', async () => {
    const url = await linkFromPeer(
      behaviours.downloadError(
        '{"error":"Invalid token - token not found","errorcode":"invalidtoken","stacktrace":null,"debuginfo":null,"reproductionlink":null}',
      ),
    );
    const response = await request(url, { headers: { accept: 'application/json' } });
    expect(response.statusCode).toBe(502);
    expect(((await response.body.json()) as { error: { code: string } }).error.code).toBe('INVALID_TOKEN');
  });

  it('cancels the upstream download when the client goes away', async () => {
    const url = await linkFromPeer({
      kind: 'trickle',
      headers: zipHeaders(),
      chunk: zipLikeBytes(512, 1),
      count: 1000,
      intervalMs: 20,
    });
    const before = moodle.requests.length;
    const response = await request(url);
    const reader = response.body;
    await new Promise<void>((resolve) => reader.once('data', () => resolve()));
    reader.destroy();
    const upstream = moodle.requests[before];
    const { complete } = (await upstream?.closed) ?? { complete: true };
    expect(complete).toBe(false);
  });
});
