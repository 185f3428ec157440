import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProviderRoutes, providerRoutes } from '../src/provider/create-provider-routes.js';
import { createProviderAdmin } from '../src/provider/provider-admin.js';
import { seedDemo } from '../src/provider/seed-demo.js';
import type { ProviderStore } from '../src/provider/store/repository.js';
import { createSqliteStore } from '../src/provider/store/sqlite-store.js';
import { callRest, download } from './support/rest-call.js';

describe('the provider routes mounted in a host app', () => {
  let dataDir: string;
  let store: ProviderStore;
  let host: FastifyInstance;
  let base: string;
  let token: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'provider-routes-'));
    store = await createSqliteStore({ dataDir });
    ({ token } = await seedDemo(createProviderAdmin({ store }), { siteName: 'Mounted', binaryBytes: 10 }));
    host = Fastify();
    host.post('/echo', async (req) => req.body);
    await host.register(createProviderRoutes({ store, siteName: 'Mounted' }), { prefix: '/provider' });
    await host.register(providerRoutes, {
      prefix: '/other',
      store,
      siteName: 'Configured',
      siteUrl: 'https://moodle.example',
    });
    await host.listen({ host: '127.0.0.1', port: 0 });
    const address = host.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
    base = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    await host?.close();
    await store?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const siteInfo = (siteUrl: string) =>
    callRest(siteUrl, {
      wstoken: token,
      wsfunction: 'core_webservice_get_site_info',
      moodlewsrestformat: 'json',
    });

  it('answers under the prefix and names the prefixed URL as the site URL', async () => {
    const body = (await siteInfo(`${base}/provider`)).json();
    expect(body).toMatchObject({ sitename: 'Mounted', siteurl: `${base}/provider` });
  });

  it('takes its dependencies as register options too, with a configured site URL answered as is', async () => {
    expect((await siteInfo(`${base}/other`)).json()).toMatchObject({
      sitename: 'Configured',
      siteurl: 'https://moodle.example',
    });
  });

  it('serves downloads under the prefix', async () => {
    const zip = (
      await callRest(`${base}/provider`, {
        wstoken: token,
        wsfunction: 'block_my_external_privatefiles_get_private_files_zip',
        moodlewsrestformat: 'json',
        username: 'alice',
      })
    ).json() as { relativepath: string };
    const fetched = await download(`${base}/provider`, zip.relativepath, token);
    expect(fetched.headers['content-type']).toBe('application/zip');
  });

  it('leaves the host app’s own body parsing alone', async () => {
    const response = await request(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kept: true }),
    });
    expect(await response.body.json()).toEqual({ kept: true });
    const form = await request(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect(form.statusCode).toBe(415);
  });
});
