import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createAgent } from '../src/moodle/agent.js';
import { createRemoteSite } from '../src/moodle/remote-site.js';
import { spawnCli, stop, waitForLogLine } from './support/cli-process.js';

const DEMO_TOKEN = '0123456789abcdef0123456789abcdef';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

async function get(url: string) {
  const response = await request(url);
  return { status: response.statusCode, text: await response.body.text() };
}

describe('moodle-gateway serve and provider', () => {
  let dir: string;
  let config: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-serve-'));
    config = join(dir, 'gateway.yaml');
    await writeFile(
      config,
      stringify({
        server: { host: '127.0.0.1', port: 0 },
        downloadLinks: { secret: 'serve-test-secret-0123456789abcdef0123' },
        provider: { enabled: true, seedDemo: true, federateAs: 'local', dataDir: join(dir, 'gateway-data') },
      }),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('src/main.ts (npm start) runs serve, the default command: --port wins, health, readiness and metrics answer, SIGTERM stops it cleanly', async () => {
    const port = await freePort();
    const root = fileURLToPath(new URL('..', import.meta.url));
    const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
    const child = spawn(
      process.execPath,
      ['--import', tsx, join(root, 'src/main.ts'), '--config', config, '--port', String(port)],
      { env: { PATH: process.env.PATH, LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const ready = await waitForLogLine(child, (line) => line.msg === 'gateway ready');
    const base = new URL(String(ready.url)).origin;
    expect(new URL(base).port).toBe(String(port));
    expect(await get(`${base}/healthz`)).toMatchObject({ status: 200 });
    const readyz = await get(`${base}/readyz`);
    expect(readyz.status).toBe(200);
    expect(JSON.parse(readyz.text)).toMatchObject({ status: 'ready', checks: { config: 'ok', store: 'ok' } });
    expect((await get(`${base}/metrics`)).text).toContain('moodle_gateway_http_request_duration_seconds');
    expect(await stop(child)).toBe(0);
  });

  it('provider runs the local provider alone, seeded with the token from PROVIDER_DEMO_TOKEN, never printing it', async () => {
    const dataDir = join(dir, 'provider-data');
    const child = spawnCli(
      ['provider', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--seed-demo'],
      {
        env: { PROVIDER_DEMO_TOKEN: DEMO_TOKEN },
      },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const ready = await waitForLogLine(child, (line) => line.msg === 'provider ready');
    const url = String(ready.url);
    const agent = createAgent();
    try {
      const site = createRemoteSite({ site: { id: 'p', url, token: DEMO_TOKEN }, dispatcher: agent });
      // Seeding follows the listening line: wait for it to finish.
      await waitFor(async () => (await site.getSiteInfo()).ok);
      const info = await site.getSiteInfo();
      expect(info.ok && info.value.sitename).toBe('Moodle Gateway local provider');
      expect((await site.createPrivateFilesZip('alice')).ok).toBe(true);
    } finally {
      await agent.close();
    }
    expect(await stop(child)).toBe(0);
    expect(output).toContain('Demo seeded');
    expect(output).not.toContain(DEMO_TOKEN);
  });

  it('provider --seed-demo without PROVIDER_DEMO_TOKEN writes the new token to a file only its owner can read', async () => {
    const dataDir = join(dir, 'provider-data-2');
    const child = spawnCli([
      'provider',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
      '--seed-demo',
    ]);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await waitForLogLine(child, (line) => line.msg === 'provider ready');
    await waitFor(async () => stderr.includes('Demo seeded'));
    const tokenFile = join(dataDir, 'demo-token');
    expect(stderr).toContain(tokenFile);
    const token = (await readFile(tokenFile, 'utf8')).trim();
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(stderr).not.toContain(token);
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    expect(await stop(child)).toBe(0);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
