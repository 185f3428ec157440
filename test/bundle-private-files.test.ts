import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Behaviour,
  behaviours,
  closedPortUrl,
  type FaultInjector,
  moodleBodies,
  type RecordedRequest,
  startFaultInjector,
  zipHeaders,
  zipLikeBytes,
} from './support/fault-injector.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { listenOnLoopback } from './support/loopback-server.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';
import { readZip } from './support/zip-read.js';

const BUNDLE_QUERY = '{ privateFilesBundle(username: "alice") { filename downloadUrl expiresAt sites } }';

/** A Moodle whose zip call and download the test chooses; its site info is a real Moodle's. */
function fakeMoodle(zip: () => Behaviour, download: () => Behaviour) {
  return (recorded: RecordedRequest): Behaviour => {
    if (recorded.path.startsWith('/blocks/')) return download();
    if (recorded.form.wsfunction === 'core_webservice_get_site_info')
      return behaviours.moodle(moodleBodies.siteInfo);
    return zip();
  };
}

interface Bundle {
  filename: string;
  downloadUrl: string;
  expiresAt: string;
  sites: string[];
}

describe('the all-sites bundle: one zip holding each site zip, and a README naming the failed sites', () => {
  let sciences: LaunchedProvider;
  let law: LaunchedProvider;
  let slow: FaultInjector;
  let gateway: TestGateway;
  const slowZip = zipLikeBytes(50_000, 7);

  beforeAll(async () => {
    [sciences, law] = await Promise.all([
      launchRestProvider({ siteName: 'Faculty of Sciences' }),
      launchRestProvider({ siteName: 'Faculty of Law', binaryBytes: 1_000 }),
    ]);
    slow = await startFaultInjector(
      fakeMoodle(
        () => behaviours.slowMoodle(moodleBodies.privateFilesZip, 1_000),
        () => behaviours.zip(slowZip),
      ),
    );
    gateway = await startTestGateway({
      sites: [
        {
          id: 'slow',
          url: slow.url,
          token: 'slow-moodle-token-0123456789',
          priority: 9,
          name: 'Slow Moodle',
        },
        { id: 'sciences', url: sciences.url, token: sciences.token, priority: 8 },
        {
          id: 'gone',
          url: await closedPortUrl(),
          token: 'gone-moodle-token-0123456789',
          priority: 7,
          name: 'Old Moodle',
        },
        { id: 'law', url: law.url, token: law.token, priority: 6 },
        {
          id: 'wrong',
          url: law.url,
          token: '0123456789abcdef0123456789abcdef',
          priority: 5,
          name: 'Wrong Token',
        },
      ],
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([sciences?.close(), law?.close(), slow?.close()]);
  });

  async function bundle(): Promise<Bundle> {
    const { body } = await gateway.graphql<{ privateFilesBundle: Bundle }>(BUNDLE_QUERY);
    expect(body.errors).toBeUndefined();
    return body.data?.privateFilesBundle as Bundle;
  }

  it('answers a link, a file name after the block, and the sites it will ask, at once', async () => {
    const started = performance.now();
    const link = await bundle();
    expect(performance.now() - started).toBeLessThan(900);
    expect(link.filename).toMatch(/^my_privatefiles_all_sites_\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.zip$/);
    expect(link.sites).toEqual(['slow', 'sciences', 'gone', 'law', 'wrong']);
    expect(link.downloadUrl.startsWith(`${gateway.url}/bundle/`)).toBe(true);
  });

  it('holds one stored zip per healthy site, named by site, in the order they arrived, and a README naming the failed ones', async () => {
    const link = await bundle();
    const started = performance.now();
    const response = await request(link.downloadUrl);
    // Headers go out before the slowest site has answered.
    expect(performance.now() - started).toBeLessThan(900);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/zip');
    expect(String(response.headers['content-disposition'])).toContain(link.filename);
    const entries = await readZip(Buffer.from(await response.body.arrayBuffer()));

    const names = entries.map((entry) => entry.name);
    expect(names).toHaveLength(4);
    // The slow site was asked first but answered last: the others did not wait for it.
    expect(names[2]).toMatch(/^my_privatefiles_Peer_Moodle_4_5_.*\.zip$/);
    expect(names.slice(0, 2).sort()).toEqual([
      expect.stringMatching(/^my_privatefiles_Faculty_of_Law_\d{4}.*\.zip$/),
      expect.stringMatching(/^my_privatefiles_Faculty_of_Sciences_\d{4}.*\.zip$/),
    ]);
    expect(names[3]).toBe('README.txt');
    for (const entry of entries) expect(entry.compressionMethod).toBe(0);

    // Each site's zip is the site's own, whole: it opens and holds alice's files.
    for (const entry of entries.slice(0, 2)) {
      const inner = await readZip(entry.data);
      expect(inner.map((file) => file.name)).toContain('welcome.txt');
    }
    expect(entries[2]?.data.equals(slowZip)).toBe(true);

    const readme = entries[3]?.data.toString('utf8') ?? '';
    expect(readme).toContain('Private files of alice');
    expect(readme).toContain('Included: 3 site(s)');
    expect(readme).toContain('Not included: 2 site(s).');
    expect(readme).toMatch(
      /Old Moodle \(http:\/\/127\.0\.0\.1:\d+\)\r\n {4}The site cannot be reached right now/,
    );
    expect(readme).toMatch(/Wrong Token \(http:\/\/127\.0\.0\.1:\d+\)\r\n {4}The site no longer accepts/);
    expect(readme).toContain('(INVALID_TOKEN: Invalid token');
    expect(readme).not.toContain('0123456789abcdef0123456789abcdef');
  });

  it('refuses an edited link with the error page, and asks no site', async () => {
    const link = await bundle();
    const before = slow.requests.length;
    const edited = `${link.downloadUrl.slice(0, -3)}${link.downloadUrl.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    const response = await request(edited, { headers: { accept: 'text/html' } });
    expect(response.statusCode).toBe(403);
    expect(response.headers['content-type']).toContain('text/html');
    expect(await response.body.text()).toContain('This download link is not valid.');
    expect(slow.requests.length).toBe(before);
  });

  it('cuts the connection when a site zip breaks off half-way, so no broken bundle looks whole', async () => {
    slow.setBehaviour(
      fakeMoodle(
        () => behaviours.moodle(moodleBodies.privateFilesZip),
        () => ({ kind: 'reset-mid-body', headers: zipHeaders(100_000), body: zipLikeBytes(20_000) }),
      ),
    );
    try {
      const link = await bundle();
      const response = await request(link.downloadUrl);
      expect(response.statusCode).toBe(200);
      await expect(response.body.arrayBuffer()).rejects.toThrow();
    } finally {
      slow.setBehaviour(
        fakeMoodle(
          () => behaviours.moodle(moodleBodies.privateFilesZip),
          () => behaviours.zip(slowZip),
        ),
      );
    }
  });
});

describe('the bundle streams: memory does not grow with the size of the sites zips', () => {
  const SIZE = 64 * 1024 * 1024;
  let site: StreamingMoodle;
  let gateway: TestGateway;

  beforeAll(async () => {
    site = await startStreamingMoodle(SIZE);
    gateway = await startTestGateway({
      sites: [{ id: 'big', url: site.url, token: 'big-moodle-token-0123456789' }],
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await site?.close();
  });

  it(`reads a ${SIZE / 1024 / 1024} MB site zip only as fast as the client takes the bundle`, async () => {
    const { body } = await gateway.graphql<{ privateFilesBundle: Bundle }>(BUNDLE_QUERY);
    const link = body.data?.privateFilesBundle as Bundle;
    const response = await request(link.downloadUrl);
    expect(response.statusCode).toBe(200);
    // The client reads nothing for a while: the gateway must stop reading the site too, holding
    // no more than its buffers (and the sockets' own), instead of taking in the whole zip.
    await sleep(800);
    const sentWhilePaused = site.sent();
    expect(sentWhilePaused).toBeGreaterThan(0);
    expect(sentWhilePaused).toBeLessThan(SIZE / 3);
    let received = 0;
    for await (const chunk of response.body) received += (chunk as Buffer).length;
    expect(received).toBeGreaterThan(SIZE);
    expect(site.sent()).toBe(SIZE);
  });
});

interface StreamingMoodle {
  readonly url: string;
  /** Bytes of the zip written to the socket so far. */
  sent(): number;
  close(): Promise<void>;
}

/** A Moodle whose zip is made up as it is sent, with backpressure: the test holds none of it. */
async function startStreamingMoodle(size: number): Promise<StreamingMoodle> {
  let sent = 0;
  const filler = Buffer.alloc(64 * 1024, 3);
  const server = createServer(async (req, res) => {
    let form = '';
    for await (const chunk of req) form += String(chunk);
    if (!req.url?.startsWith('/blocks/')) {
      const fn = new URLSearchParams(form).get('wsfunction');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(fn === 'core_webservice_get_site_info' ? moodleBodies.siteInfo : moodleBodies.privateFilesZip);
      return;
    }
    res.writeHead(200, zipHeaders(size));
    let left = size;
    const pump = () => {
      while (left > 0 && !res.destroyed) {
        const piece =
          left === size ? zipLikeBytes(filler.length, 3) : filler.subarray(0, Math.min(filler.length, left));
        left -= piece.length;
        sent += piece.length;
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    pump();
  });
  const listening = await listenOnLoopback(server);
  return {
    url: listening.url,
    sent: () => sent,
    close: listening.close,
  };
}
