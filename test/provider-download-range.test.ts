import { createHash } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProviderCleanup } from '../src/provider/cleanup-job.js';
import { callRest, download } from './support/rest-call.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';
import { recordedDownloadErrors } from './support/rest-recorded-exchanges.js';

const DRAFT_SCRIPT = '/blocks/my_external_privatefiles/get_user_draft_file_webservice.php';

describe('resuming a zip download with HTTP Range', () => {
  let provider: LaunchedProvider;
  let relativepath = '';
  let whole: Buffer;
  let etag = '';

  beforeAll(async () => {
    provider = await launchRestProvider({ binaryBytes: 600_000 });
    const zip = await callRest(provider.url, {
      wstoken: provider.token,
      wsfunction: 'block_my_external_privatefiles_get_private_files_zip',
      moodlewsrestformat: 'json',
      username: 'alice',
    });
    ({ relativepath } = zip.json() as { relativepath: string });
    const fetched = await download(provider.url, relativepath, provider.token);
    whole = fetched.body;
    etag = String(fetched.headers.etag);
  });
  afterAll(() => provider?.close());

  const url = () => `${provider.url}${DRAFT_SCRIPT}${relativepath}?token=${provider.token}`;

  it('gives the same bytes when a broken-off download resumes from where it stopped', async () => {
    const first = await request(url());
    const received: Buffer[] = [];
    let length = 0;
    for await (const chunk of first.body) {
      received.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= 100_000) break;
    }
    first.body.destroy();
    expect(length).toBeLessThan(whole.length);

    const rest = await download(provider.url, relativepath, provider.token, {
      range: `bytes=${length}-`,
      'if-range': etag,
    });
    expect(rest.status).toBe(206);
    expect(rest.headers['content-range']).toBe(`bytes ${length}-${whole.length - 1}/${whole.length}`);
    expect(rest.headers['content-length']).toBe(String(whole.length - length));
    expect(rest.headers.etag).toBe(etag);
    const resumed = Buffer.concat([...received, rest.body]);
    expect(resumed.equals(whole)).toBe(true);
    expect(`"${createHash('sha1').update(resumed).digest('hex')}"`).toBe(etag);
  });

  it('serves a closed range and a suffix range', async () => {
    const middle = await download(provider.url, relativepath, provider.token, { range: 'bytes=10-19' });
    expect(middle.status).toBe(206);
    expect(middle.body.equals(whole.subarray(10, 20))).toBe(true);
    const tail = await download(provider.url, relativepath, provider.token, { range: 'bytes=-22' });
    expect(tail.headers['content-range']).toBe(
      `bytes ${whole.length - 22}-${whole.length - 1}/${whole.length}`,
    );
    expect(tail.body.equals(whole.subarray(-22))).toBe(true);
  });

  it('answers 416 with the size for a range starting past the end', async () => {
    const past = await download(provider.url, relativepath, provider.token, {
      range: `bytes=${whole.length}-`,
    });
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${whole.length}`);
    expect(past.body.length).toBe(0);
  });

  it('sends the whole zip when If-Range names another version, or the range is not one it serves', async () => {
    const variants: Record<string, string>[] = [
      { range: 'bytes=100-', 'if-range': '"0000000000000000000000000000000000000000"' },
      { range: 'bytes=0-1,5-9' },
      { range: 'lines=1-2' },
    ];
    for (const headers of variants) {
      const fetched = await download(provider.url, relativepath, provider.token, headers);
      expect(fetched.status).toBe(200);
      expect(fetched.body.equals(whole)).toBe(true);
    }
  });

  it('answers HEAD with the headers and no body', async () => {
    const head = await request(url(), { method: 'HEAD' });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(whole.length));
    expect(head.headers.etag).toBe(etag);
    expect((await head.body.arrayBuffer()).byteLength).toBe(0);
  });
});

describe('a zip being downloaded while cleanup runs', () => {
  let provider: LaunchedProvider;
  let offsetMs = 0;

  beforeAll(async () => {
    // Larger than what the sockets' buffers hold, so the server is still streaming when cleanup runs.
    provider = await launchRestProvider({ binaryBytes: 24_000_000, clock: () => Date.now() + offsetMs });
  });
  afterAll(() => provider?.close());

  it('is not deleted under the reader, and is deleted by the next cleanup once the download ends', async () => {
    const zip = await callRest(provider.url, {
      wstoken: provider.token,
      wsfunction: 'block_my_external_privatefiles_get_private_files_zip',
      moodlewsrestformat: 'json',
      username: 'alice',
    });
    const { relativepath, itemid, contextid } = zip.json() as {
      relativepath: string;
      itemid: number;
      contextid: number;
    };
    const row = await provider.provider.store.zips.find(contextid, itemid, 'myprivatefiles.zip');
    if (!row) throw new Error('the zip was not recorded');

    const reading = await request(`${provider.url}${DRAFT_SCRIPT}${relativepath}?token=${provider.token}`);
    const iterator = reading.body[Symbol.asyncIterator]();
    const chunks: Buffer[] = [(await iterator.next()).value as Buffer];
    expect(provider.provider.store.zips.isBeingRead(row.id)).toBe(true);

    offsetMs = 3 * 86_400_000;
    const during = await runProviderCleanup({ store: provider.provider.store, orphanGraceMs: 0 });
    expect(during).toMatchObject({ deletedZips: 0, skippedZipsUnderRead: 1 });

    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      chunks.push(next.value as Buffer);
    const body = Buffer.concat(chunks);
    expect(body.length).toBe(row.size);
    expect(createHash('sha1').update(body).digest('hex')).toBe(row.contenthash);

    await expect.poll(() => provider.provider.store.zips.isBeingRead(row.id)).toBe(false);
    const after = await runProviderCleanup({ store: provider.provider.store, orphanGraceMs: 0 });
    expect(after.deletedZips).toBe(1);
    const gone = await download(provider.url, relativepath, provider.token);
    expect(gone.status).toBe(404);
    expect(gone.body.toString()).toBe(recordedDownloadErrors.filenotfound.body);
  });

  it('releases its lease when the client goes away mid-download', async () => {
    offsetMs = 0;
    const zip = await callRest(provider.url, {
      wstoken: provider.token,
      wsfunction: 'block_my_external_privatefiles_get_private_files_zip',
      moodlewsrestformat: 'json',
      username: 'alice',
    });
    const { relativepath, itemid, contextid } = zip.json() as {
      relativepath: string;
      itemid: number;
      contextid: number;
    };
    const row = await provider.provider.store.zips.find(contextid, itemid, 'myprivatefiles.zip');
    if (!row) throw new Error('the zip was not recorded');
    const reading = await request(`${provider.url}${DRAFT_SCRIPT}${relativepath}?token=${provider.token}`);
    await reading.body[Symbol.asyncIterator]().next();
    expect(provider.provider.store.zips.isBeingRead(row.id)).toBe(true);
    reading.body.destroy();
    await expect.poll(() => provider.provider.store.zips.isBeingRead(row.id)).toBe(false);
  });
});
