import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemoteDownload } from '../src/gateway/site.js';
import { createAgent } from '../src/moodle/agent.js';
import { createDownloader, type Downloader, type DownloadOptions } from '../src/moodle/download.js';
import type { Result, SiteFailure, SiteFailureCode } from '../src/moodle/failures.js';
import {
  behaviours,
  downloadErrorBodies,
  type FaultInjector,
  startFaultInjector,
  ZIP_SIGNATURE,
  zipHeaders,
  zipLikeBytes,
} from './support/fault-injector.js';

const TOKEN = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const RELATIVE_PATH = '/12/user/draft/451539184/myprivatefiles.zip';
const SCRIPT = '/blocks/my_external_privatefiles/get_user_draft_file_webservice.php';

let injector: FaultInjector;
let agent: Agent;
let downloader: Downloader;

beforeAll(async () => {
  injector = await startFaultInjector();
  agent = createAgent({ connectTimeoutMs: 2_000 });
  downloader = createDownloader({ dispatcher: agent, site: { id: 'peer', url: injector.url, token: TOKEN } });
});

afterAll(async () => {
  await injector.close();
  await agent.destroy();
});

const open = (options: Partial<DownloadOptions> = {}) =>
  downloader.open(RELATIVE_PATH, { headersTimeoutMs: 2_000, idleTimeoutMs: 2_000, ...options });

function downloadOf(result: Result<RemoteDownload>): RemoteDownload {
  if (!result.ok) {
    throw new Error(`expected a download, got ${result.failure.code}: ${result.failure.message}`);
  }
  return result.value;
}

function failureOf(result: Result<RemoteDownload>): SiteFailure {
  if (result.ok) {
    result.value.body.destroy();
    throw new Error('expected a failure, got a download');
  }
  return result.failure;
}

async function drain(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

describe('a download', () => {
  it('streams the zip with its content type and length, the token in the query string', async () => {
    const zip = Buffer.concat([ZIP_SIGNATURE, randomBytes(300_000)]);
    injector.setBehaviour(behaviours.zip(zip));
    const request = injector.nextRequest();
    const download = downloadOf(await open());
    expect(download.contentType).toBe('application/zip');
    expect(download.contentLength).toBe(zip.length);
    expect((await drain(download.body)).equals(zip)).toBe(true);
    const received = await request;
    expect(received.method).toBe('GET');
    expect(received.path).toBe(`${SCRIPT}${RELATIVE_PATH}`);
    expect(received.query).toEqual({ token: TOKEN });
  });

  it('refuses a relative path that could leave the draft area', async () => {
    for (const path of [
      '/12/../../config.php',
      'relative/file.zip',
      '/12/user/draft/1/a.zip?x=1',
      '/12//a.zip',
    ]) {
      await expect(downloader.open(path, { headersTimeoutMs: 1_000, idleTimeoutMs: 1_000 })).rejects.toThrow(
        TypeError,
      );
    }
  });
});

const errors: readonly [string, string, number, SiteFailureCode, RegExp][] = [
  ['invalidtoken', downloadErrorBodies.invalidToken, 200, 'INVALID_TOKEN', /invalidtoken/],
  ['missingparam', downloadErrorBodies.missingParam, 200, 'REMOTE_ERROR', /missingparam/],
  ['invalidarguments', downloadErrorBodies.invalidArguments, 200, 'REMOTE_ERROR', /invalidarguments/],
  ['nopermissions', downloadErrorBodies.noPermissions, 200, 'ACCESS_DENIED', /nopermissions/],
  ['filenotfound', downloadErrorBodies.fileNotFound, 404, 'REMOTE_ERROR', /file not found \/ expired/],
  ['accessexception', downloadErrorBodies.accessException, 200, 'ACCESS_DENIED', /accessexception/],
  ['wsaccessusersuspended', downloadErrorBodies.userSuspended, 200, 'ACCESS_DENIED', /suspended/],
];

describe('a download that is not a zip', () => {
  it.each(errors)('maps the JSON error %s to a failure', async (errorcode, body, status, code, message) => {
    injector.setBehaviour(behaviours.downloadError(body, status));
    const failure = failureOf(await open());
    expect(failure).toMatchObject({ code, remoteErrorCode: errorcode });
    expect(failure.message).toMatch(message);
    expect(failure.message).not.toContain(TOKEN);
  });

  it('maps an HTTP 503 to MAINTENANCE with its Retry-After', async () => {
    injector.setBehaviour(behaviours.maintenance(120));
    expect(failureOf(await open())).toMatchObject({ code: 'MAINTENANCE', retryAfterSeconds: 120 });
  });

  it('maps another content type to BAD_RESPONSE', async () => {
    injector.setBehaviour(behaviours.html(200));
    const failure = failureOf(await open());
    expect(failure.code).toBe('BAD_RESPONSE');
    expect(failure.message).toContain('content type text/html instead of a zip file');
  });

  it('maps JSON that is not a Moodle error to BAD_RESPONSE', async () => {
    injector.setBehaviour(behaviours.downloadError('{"ok":true}'));
    expect(failureOf(await open()).code).toBe('BAD_RESPONSE');
  });

  it('answers TIMEOUT when the headers do not come within their deadline', async () => {
    injector.setBehaviour(behaviours.neverAnswer());
    const started = performance.now();
    const failure = failureOf(await open({ headersTimeoutMs: 300 }));
    expect(failure.code).toBe('TIMEOUT');
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('a download while it streams', () => {
  it('errors the stream when no byte arrives within the idle deadline', async () => {
    injector.setBehaviour({
      kind: 'stall-after-headers',
      headers: zipHeaders(10_000),
      body: zipLikeBytes(100),
    });
    const started = performance.now();
    const download = downloadOf(await open({ idleTimeoutMs: 300 }));
    await expect(drain(download.body)).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
    // undici's body timer ticks every half second.
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('keeps a slow download going as long as bytes keep coming, with no total deadline', async () => {
    injector.setBehaviour({
      kind: 'trickle',
      headers: zipHeaders(),
      chunk: Buffer.concat([ZIP_SIGNATURE, Buffer.alloc(96)]),
      count: 12,
      intervalMs: 100,
    });
    const download = downloadOf(await open({ headersTimeoutMs: 300, idleTimeoutMs: 600 }));
    expect((await drain(download.body)).length).toBe(1_200);
  });

  it("cancels the upstream request when the caller's signal aborts", async () => {
    injector.setBehaviour({
      kind: 'trickle',
      headers: zipHeaders(),
      chunk: ZIP_SIGNATURE,
      count: Infinity,
      intervalMs: 20,
    });
    const controller = new AbortController();
    const request = injector.nextRequest();
    const download = downloadOf(await open({ signal: controller.signal }));
    const received = await request;
    const failed = drain(download.body);
    controller.abort(new Error('the client left'));
    await expect(failed).rejects.toThrow('the client left');
    expect(await received.closed).toEqual({ complete: false });
  });

  it('cancels the upstream request when the consumer destroys the body', async () => {
    injector.setBehaviour({
      kind: 'trickle',
      headers: zipHeaders(),
      chunk: ZIP_SIGNATURE,
      count: Infinity,
      intervalMs: 20,
    });
    const request = injector.nextRequest();
    const download = downloadOf(await open());
    const received = await request;
    download.body.destroy();
    expect(await received.closed).toEqual({ complete: false });
  });

  it("rejects with the caller's reason when the caller aborts before the headers", async () => {
    injector.setBehaviour(behaviours.neverAnswer());
    const controller = new AbortController();
    const request = injector.nextRequest();
    const pending = open({ signal: controller.signal });
    const received = await request;
    const reason = new Error('gone');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(await received.closed).toEqual({ complete: false });
  });

  it('errors the stream when the body is shorter than its Content-Length', async () => {
    injector.setBehaviour({
      kind: 'short-body',
      headers: zipHeaders(),
      body: zipLikeBytes(1_000),
      declaredLength: 5_000,
    });
    const download = downloadOf(await open());
    expect(download.contentLength).toBe(5_000);
    await expect(drain(download.body)).rejects.toThrow();
  });

  it('errors the stream when the connection is reset mid-body', async () => {
    injector.setBehaviour({ kind: 'reset-mid-body', headers: zipHeaders(5_000), body: zipLikeBytes(1_000) });
    const result = await open();
    // The reset may overtake the headers; either way nothing looks complete.
    if (result.ok) {
      await expect(drain(result.value.body)).rejects.toThrow();
    } else {
      expect(result.failure.code).toBe('UNREACHABLE');
    }
  });
});
