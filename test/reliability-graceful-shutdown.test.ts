import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZipArchive } from 'archiver';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/auth/authenticate.js';
import { spawnCli } from './support/cli-process.js';
import {
  type Behaviour,
  behaviours,
  type FaultInjector,
  moodleBodies,
  startFaultInjector,
  ZIP_SIGNATURE,
  zipHeaders,
} from './support/fault-injector.js';

const ADMIN_KEY = 'shutdown-test-admin-key-0123456789';

interface GatewayChild {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly exited: Promise<number | null>;
  readonly output: () => string;
}

/** `moodle-gateway serve` in a child process, as in production, against one site. */
async function startGatewayChild(dir: string, siteUrl: string, graceMs: number): Promise<GatewayChild> {
  const configFile = join(dir, 'gateway.json');
  await writeFile(
    configFile,
    JSON.stringify({
      server: { host: '127.0.0.1', port: 0, shutdownGraceMs: graceMs },
      sites: [
        { id: 'peer', url: siteUrl, token: 'shutdown-token-0123456789', timeouts: { downloadIdleMs: 5_000 } },
      ],
      auth: { apiKeys: [{ id: 'test', sha256: sha256Hex(ADMIN_KEY), role: 'admin' }] },
      downloadLinks: { secret: 'shutdown-test-link-secret-0123456789abcdef' },
      logLevel: 'info',
    }),
  );
  const child = spawnCli(['serve', '--config', configFile]);
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)\/graphql"[^\n]*"gateway ready"/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    exited.then((code) => reject(new Error(`the gateway exited (${code}) before it was ready:\n${output}`)));
  });
  const url = await ready;
  return { child, url, port: Number(new URL(url).port), exited, output: () => output };
}

/** Whether a new TCP connection to the port is refused. */
function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

async function smallZip(bytes: number): Promise<Buffer> {
  const archive = new ZipArchive({ store: true });
  const sink = new PassThrough();
  archive.pipe(sink);
  archive.append(Buffer.alloc(bytes, 0x61), { name: 'notes.txt' });
  const zip = buffer(sink);
  await archive.finalize();
  return zip;
}

describe('graceful shutdown of a gateway process', () => {
  let moodle: FaultInjector | undefined;
  let gateway: GatewayChild | undefined;
  let agent: Agent | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    if (gateway && gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
    await gateway?.exited;
    await agent?.close();
    await moodle?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    gateway = agent = moodle = dir = undefined;
  });

  async function linkFor(download: Behaviour): Promise<string> {
    moodle?.setBehaviour((received) => {
      if (!received.path.endsWith('/server.php')) return download;
      return received.form.wsfunction === 'core_webservice_get_site_info'
        ? behaviours.moodle(moodleBodies.siteInfo)
        : behaviours.moodle(moodleBodies.privateFilesZip);
    });
    const response = await request(`${gateway?.url}/graphql`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({
        query:
          '{ privateFilesZip(site: "peer", username: "alice") { ... on PrivateFilesZip { downloadUrl } } }',
      }),
    });
    const body = (await response.body.json()) as { data?: { privateFilesZip: { downloadUrl?: string } } };
    const url = body.data?.privateFilesZip.downloadUrl;
    if (!url) throw new Error(`no download link: ${JSON.stringify(body)}`);
    return url;
  }

  it('on SIGTERM, refuses new connections, lets an in-flight download finish whole, and exits 0', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gateway-shutdown-'));
    moodle = await startFaultInjector();
    agent = new Agent();
    gateway = await startGatewayChild(dir, moodle.url, 10_000);
    const zip = await smallZip(24_000);
    // About 1.5 s of download: 2 KB every 125 ms.
    const url = await linkFor(behaviours.trickleZip(zip, 16 * 1024));

    const response = await request(url, { dispatcher: agent });
    expect(response.statusCode).toBe(200);
    const chunks: Buffer[] = [];
    let finished = false;
    const firstChunk = new Promise<void>((resolve) => response.body.once('data', () => resolve()));
    response.body.on('data', (chunk: Buffer) => chunks.push(chunk));
    const complete = new Promise<void>((resolve, reject) => {
      response.body.once('end', () => {
        finished = true;
        resolve();
      });
      response.body.once('error', reject);
    });
    await firstChunk;

    gateway.child.kill('SIGTERM');
    let refused = false;
    for (let tries = 0; tries < 40 && !refused; tries++) {
      refused = await refuses(gateway.port);
      if (!refused) await sleep(25);
    }
    expect(refused).toBe(true);
    expect(finished).toBe(false);

    await complete;
    const downloaded = performance.now();
    expect(Buffer.concat(chunks).equals(zip)).toBe(true);
    expect(await gateway.exited).toBe(0);
    // Once nothing is in flight the process ends, without sitting out the 10 s grace period.
    expect(performance.now() - downloaded).toBeLessThan(5_000);
    expect(gateway.output()).toMatch(/"shutting down"/);
  });

  it('cuts a download still running when the grace period ends, so the client never takes it as whole, and exits 0', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gateway-shutdown-'));
    moodle = await startFaultInjector();
    agent = new Agent();
    gateway = await startGatewayChild(dir, moodle.url, 500);
    const url = await linkFor({
      kind: 'trickle',
      headers: zipHeaders(),
      chunk: ZIP_SIGNATURE,
      count: Number.POSITIVE_INFINITY,
      intervalMs: 50,
    });
    const response = await request(url, { dispatcher: agent });
    expect(response.statusCode).toBe(200);
    const read = response.body.arrayBuffer();
    await sleep(200);
    const signalled = performance.now();
    gateway.child.kill('SIGTERM');
    await expect(read).rejects.toThrow();
    expect(await gateway.exited).toBe(0);
    // The grace period, not a hang: the process ends soon after it.
    expect(performance.now() - signalled).toBeLessThan(5_000);
  });
});
