import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

describe('the page is served as files of the gateway, under a strict Content-Security-Policy', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({});
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('serves / as the page instead of a redirect, with the security headers', async () => {
    const response = await request(`${gateway.url}/`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    const html = await response.body.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<script type="module" src="/assets/page.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/assets/page.css">');
  });

  it('holds no inline script, style or event handler for the policy to refuse', async () => {
    const html = await (await request(`${gateway.url}/`)).body.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    const script = await (await request(`${gateway.url}/assets/page.js`)).body.text();
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  });

  it('labels every input, as an accessible form does', async () => {
    const html = await (await request(`${gateway.url}/`)).body.text();
    const inputs = [...html.matchAll(/<input[^>]*\bid="([^"]+)"/g)].map((match) => match[1]);
    expect(inputs.length).toBeGreaterThan(0);
    for (const id of inputs) expect(html).toContain(`<label for="${id}">`);
  });

  it('serves the script and the style with their types, and revalidates them by ETag', async () => {
    for (const [path, type] of [
      ['/assets/page.js', 'text/javascript; charset=utf-8'],
      ['/assets/page.css', 'text/css; charset=utf-8'],
    ] as const) {
      const response = await request(`${gateway.url}${path}`);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe(type);
      expect(response.headers['content-security-policy']).toBeDefined();
      await response.body.dump();
      const etag = String(response.headers.etag);
      const again = await request(`${gateway.url}${path}`, { headers: { 'if-none-match': etag } });
      expect(again.statusCode).toBe(304);
      await again.body.dump();
    }
  });

  it('serves the download error page under the same policy, in plain words with a way back', async () => {
    const response = await request(`${gateway.url}/download/not-a-link`, {
      headers: { accept: 'text/html' },
    });
    expect(response.statusCode).toBe(403);
    expect(String(response.headers['content-security-policy'])).toContain("default-src 'self'");
    const html = await response.body.text();
    expect(html).toContain('This download link is not valid.');
    expect(html).toContain('<a href="/">Back to your files</a>');
    const bundle = await request(`${gateway.url}/bundle/not-a-link`, {
      headers: { accept: 'application/json' },
    });
    expect(bundle.statusCode).toBe(403);
    expect(await bundle.body.json()).toMatchObject({ error: { code: 'LINK_INVALID' } });
  });

  it('tells the page who is signed in, never with a credential', async () => {
    const { body } = await gateway.graphql<{ viewer: Record<string, unknown> }>(
      '{ viewer { role tenant username actsForOthers managesSites } }',
    );
    expect(body.data?.viewer).toEqual({
      role: 'ADMIN',
      tenant: 'default',
      username: null,
      actsForOthers: true,
      managesSites: true,
    });
    const anonymous = await gateway.graphql<{ viewer: Record<string, unknown> }>(
      '{ viewer { role username actsForOthers } }',
      {},
      { authorization: '' },
    );
    expect(anonymous.body.data?.viewer).toEqual({ role: 'ANONYMOUS', username: null, actsForOthers: false });
  });
});
