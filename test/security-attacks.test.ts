import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, TEST_ADMIN_KEY, type TestGateway } from './support/gateway-harness.js';

const UPLOAD = `mutation($username: String!, $filepath: String, $filename: String, $file: File!) {
  uploadPrivateFile(username: $username, filepath: $filepath, filename: $filename, file: $file) { filepath filename size }
}`;

async function listFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

describe('attacks on the GraphQL endpoint', () => {
  let gateway: TestGateway;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gateway-attacks-'));
    gateway = await startTestGateway({
      provider: { enabled: true, dataDir, maxUploadBytes: 64 * 1024 },
      graphql: { maxDepth: 6, maxAliases: 10, maxTokens: 500, maxBodyBytes: 64 * 1024, introspection: false },
    });
    const created = await gateway.graphql(
      'mutation { createProviderUser(input: { username: "carol" }) { username } }',
    );
    expect(created.body.errors).toBeUndefined();
  });
  afterAll(async () => {
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function upload(filename: string, bytes: Buffer, filepath = '/') {
    const form = new FormData();
    form.set(
      'operations',
      JSON.stringify({ query: UPLOAD, variables: { username: 'carol', filepath, filename, file: null } }),
    );
    form.set('map', JSON.stringify({ 0: ['variables.file'] }));
    form.set('0', new Blob([new Uint8Array(bytes)]), 'upload.bin');
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'graphql-require-preflight': '1' },
      body: form,
    });
    return {
      status: response.status,
      body: (await response.json()) as {
        data?: unknown;
        errors?: { message: string; extensions?: { code?: string; field?: string } }[];
      },
    };
  }

  function expectRefused(
    body: { errors?: { message: string; extensions?: Record<string, unknown> }[] },
    code?: string,
  ) {
    expect(body.errors?.length).toBeGreaterThan(0);
    const error = body.errors?.[0];
    expect(error?.extensions?.code).toEqual(code ?? expect.any(String));
    expect(JSON.stringify(body)).not.toMatch(/\bat [\w.<>]+ \(|node_modules|\/src\//);
  }

  it('refuses a depth bomb', async () => {
    const deep = `{ providerFiles(username: "carol") { ${'folders { '.repeat(12)}name${' }'.repeat(12)} } }`;
    const { body } = await gateway.graphql(deep);
    expectRefused(body);
    expect(body.errors?.[0]?.message).toMatch(/depth/i);
  });

  it('refuses an alias bomb', async () => {
    const aliases = Array.from({ length: 50 }, (_, i) => `a${i}: externalSites { id }`).join(' ');
    const { body } = await gateway.graphql(`{ ${aliases} }`);
    expectRefused(body);
    expect(body.errors?.[0]?.message).toMatch(/alias/i);
  });

  it('refuses a huge query by its tokens', async () => {
    const { body } = await gateway.graphql(`{ externalSites { ${'id '.repeat(2000)} } }`);
    expectRefused(body);
    expect(body.errors?.[0]?.message).toMatch(/token/i);
  });

  it('refuses a body over the size limit with 413', async () => {
    const { status } = await gateway.graphql(`{ externalSites { id } } # ${'x'.repeat(80 * 1024)}`);
    expect(status).toBe(413);
  });

  it('refuses a batch of 1,000 operations', async () => {
    const batch = Array.from({ length: 1000 }, () => ({ query: '{ externalSites { id } }' }));
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_KEY}` },
      body: JSON.stringify(batch),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    await response.arrayBuffer();
  });

  it('does not suggest field names, and hides the schema when introspection is off', async () => {
    const { body } = await gateway.graphql('{ externalSites { idd } }');
    expect(JSON.stringify(body)).not.toMatch(/Did you mean/);
    const introspection = await gateway.graphql('{ __schema { types { name } } }');
    expectRefused(introspection.body);
  });

  it('accepts a sound upload', async () => {
    const { body } = await upload('notes.txt', Buffer.from('hello'), '/notes/');
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ uploadPrivateFile: { filepath: '/notes/', filename: 'notes.txt', size: 5 } });
  });

  const badNames: [string, string, string][] = [
    ['a parent segment in the folder', '../../etc/', 'passwd'],
    ['a parent segment as the name', '/', '..'],
    ['an absolute Windows path', '/', 'C:\\evil.txt'],
    ['a slash in the name', '/', 'a/b.txt'],
    ['a NUL byte', '/', 'evil\u0000.txt'],
    ['an overlong name', '/', `${'x'.repeat(300)}.txt`],
    ['an overlong folder', `/${'d/'.repeat(600)}`, 'f.txt'],
  ];
  it.each(badNames)('refuses %s, naming the field, and writes nothing', async (_what, filepath, filename) => {
    const before = await listFilesUnder(dataDir);
    const { body } = await upload(filename, Buffer.from('payload'), filepath);
    expectRefused(body, 'BAD_USER_INPUT');
    expect(['filepath', 'filename']).toContain(body.errors?.[0]?.extensions?.field);
    const after = await listFilesUnder(dataDir);
    expect(after.filter((file) => !file.endsWith('-wal') && !file.endsWith('-shm'))).toEqual(
      before.filter((file) => !file.endsWith('-wal') && !file.endsWith('-shm')),
    );
  });

  it('refuses an oversized upload and keeps no part of it', async () => {
    const before = await listFilesUnder(join(dataDir, 'filedir'));
    const { body } = await upload('big.bin', Buffer.alloc(200 * 1024, 1));
    expect(body.errors?.length).toBeGreaterThan(0);
    expect(await listFilesUnder(join(dataDir, 'filedir'))).toEqual(before);
    const files = await gateway.graphql<{ providerFiles: { files: { filename: string }[] } }>(
      '{ providerFiles(username: "carol") { files { filename } } }',
    );
    expect(files.body.data?.providerFiles.files.map((file) => file.filename)).not.toContain('big.bin');
  });
});
