import { PassThrough } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { ZipArchive } from 'archiver';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { readZip } from './support/zip-read.js';

const ZIP_QUERY = `{ privateFilesZip(site: "peer", username: "alice") {
  __typename ... on PrivateFilesZip { downloadUrl } ... on SiteFailure { code message }
} }`;

async function smallZip(entries: Record<string, Buffer>): Promise<Buffer> {
  const archive = new ZipArchive({ store: true });
  const sink = new PassThrough();
  archive.pipe(sink);
  for (const [name, content] of Object.entries(entries)) archive.append(content, { name });
  const bytes = buffer(sink);
  await archive.finalize();
  return bytes;
}

describe('a download that is not whole is never delivered as a complete file', () => {
  let moodle: FaultInjector;
  let gateway: TestGateway;

  beforeAll(async () => {
    moodle = await startFaultInjector();
    gateway = await startTestGateway({
      sites: [
        { id: 'peer', url: moodle.url, token: 'peer-token-0123456789', timeouts: { downloadIdleMs: 600 } },
      ],
    });
  });
  afterAll(async () => {
    await gateway.close();
    await moodle.close();
  });

  /** A fresh signed link whose download the site answers with `download`. */
  async function linkTo(download: Behaviour): Promise<string> {
    moodle.setBehaviour((received) => {
      if (!received.path.endsWith('/server.php')) return download;
      return received.form.wsfunction === 'core_webservice_get_site_info'
        ? behaviours.moodle(moodleBodies.siteInfo)
        : behaviours.moodle(moodleBodies.privateFilesZip);
    });
    const { body } = await gateway.graphql<{ privateFilesZip: { downloadUrl: string } }>(ZIP_QUERY);
    const url = body.data?.privateFilesZip.downloadUrl;
    if (url === undefined) throw new Error(`no link: ${JSON.stringify(body)}`);
    return url;
  }

  it('answers a 502 page, not a zip, when the site sends an HTML page as application/zip', async () => {
    const url = await linkTo(
      behaviours.zip(Buffer.from('<!DOCTYPE html><html><body>Fatal error: out of memory</body></html>')),
    );
    const response = await request(url, { headers: { accept: 'application/json' } });
    expect(response.statusCode).toBe(502);
    expect(response.headers['content-type']).not.toMatch(/zip/);
    const page = (await response.body.json()) as { error: { code: string; message: string } };
    expect(page.error.code).toBe('BAD_RESPONSE');
    expect(page.error.message).toMatch(/HTML or XML document sent as a zip file/);
  });

  it('answers a 502 page for an empty file sent as a zip', async () => {
    const url = await linkTo(behaviours.zip(Buffer.alloc(0)));
    const response = await request(url);
    expect(response.statusCode).toBe(502);
    await response.body.dump();
  });

  it('cuts the connection when the site resets it in the middle of the zip', async () => {
    const url = await linkTo({
      kind: 'reset-mid-body',
      headers: zipHeaders(200_000),
      body: zipLikeBytes(20_000),
    });
    const response = await request(url).catch((error: unknown) => new Error(String(error)));
    if (response instanceof Error) return; // the reset overtook the headers: nothing was delivered
    expect(response.statusCode).toBe(200);
    await expect(response.body.arrayBuffer()).rejects.toThrow();
  });

  it('delivers, whole and byte for byte, a zip that trickles at 1 KB/s: alive is not stalled', async () => {
    const zip = await smallZip({ 'notes.txt': Buffer.from('x'.repeat(1_500)), 'a/b.txt': Buffer.from('b') });
    const url = await linkTo(behaviours.trickleZip(zip, 1024));
    const started = performance.now();
    const response = await request(url);
    expect(response.statusCode).toBe(200);
    const received = Buffer.from(await response.body.arrayBuffer());
    // Longer than the 600 ms idle deadline: only silence ends a download, never its length.
    expect(performance.now() - started).toBeGreaterThan(1_000);
    expect(received.equals(zip)).toBe(true);
    expect((await readZip(received)).map((entry) => entry.name)).toEqual(['notes.txt', 'a/b.txt']);
  });
});
