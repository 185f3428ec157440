import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

const SECRET = 'authentication-test-secret-0123456789abcdef';
const ME = '{ privateFilesZips(username: "alice") { __typename } }';

function sign(claims: Record<string, unknown>, { secret = SECRET, exp = '5m' as string | number } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(secret));
}

describe('bearer JWTs signed with a shared secret', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({
      auth: {
        jwt: {
          secret: SECRET,
          issuer: 'https://idp.example',
          audience: 'moodle-gateway',
          clockToleranceSeconds: 0,
        },
      },
    });
  });
  afterAll(() => gateway.close());

  const good = { preferred_username: 'alice', iss: 'https://idp.example', aud: 'moodle-gateway' };

  it('accepts a valid token for its own user', async () => {
    const { status, body } = await gateway.graphql(ME, undefined, {
      authorization: `Bearer ${await sign(good)}`,
    });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
  });

  const refusals: [string, () => Promise<string>, RegExp][] = [
    [
      'a wrong signature',
      () => sign(good, { secret: 'another-secret-of-enough-length-0123456789' }),
      /not valid/,
    ],
    ['an expired token', () => sign(good, { exp: Math.floor(Date.now() / 1000) - 60 }), /expired/],
    [
      'a token not valid before later',
      () =>
        new SignJWT(good)
          .setProtectedHeader({ alg: 'HS256' })
          .setNotBefore('10m')
          .setExpirationTime('20m')
          .sign(new TextEncoder().encode(SECRET)),
      /"nbf"/,
    ],
    ['another issuer', () => sign({ ...good, iss: 'https://evil.example' }), /"iss"/],
    ['another audience', () => sign({ ...good, aud: 'someone-else' }), /"aud"/],
    ['no username claim', () => sign({ iss: good.iss, aud: good.aud }), /no user/],
    [
      'alg none',
      async () =>
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(good)).toString('base64url')}.`,
      /not valid/,
    ],
    ['an unknown API key', async () => 'not-a-configured-key', /not valid/],
  ];
  it.each(refusals)('refuses %s with 401 and a clear message', async (_what, token, message) => {
    const { status, body } = await gateway.graphql(ME, undefined, {
      authorization: `Bearer ${await token()}`,
    });
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(body.errors?.[0]?.message).toMatch(message);
  });

  it('refuses an Authorization header that is not a bearer', async () => {
    const { status } = await gateway.graphql(ME, undefined, { authorization: 'Basic YWxpY2U6c2VjcmV0' });
    expect(status).toBe(401);
  });
});

describe('bearer JWTs verified against a JWKS URL', () => {
  let jwks: Server;
  let gateway: TestGateway;
  let privateKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    jwks = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    jwks.listen(0, '127.0.0.1');
    await once(jwks, 'listening');
    const { port } = jwks.address() as AddressInfo;
    gateway = await startTestGateway({
      auth: { jwt: { jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`, tenantClaim: 'org' } },
    });
  });
  afterAll(async () => {
    await gateway.close();
    jwks.closeAllConnections();
    await new Promise((resolve) => jwks.close(resolve));
  });

  it('accepts a token signed by a published key, and refuses one that is not', async () => {
    const token = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setExpirationTime('5m')
      .sign(privateKey);
    expect((await gateway.graphql(ME, undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
    const other = await generateKeyPair('ES256');
    const forged = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setExpirationTime('5m')
      .sign(other.privateKey);
    expect((await gateway.graphql(ME, undefined, { authorization: `Bearer ${forged}` })).status).toBe(401);
  });

  it('refuses an HS256 token even when signed with the public key material', async () => {
    const token = await sign({ sub: 'alice' });
    expect((await gateway.graphql(ME, undefined, { authorization: `Bearer ${token}` })).status).toBe(401);
  });
});

describe('the admin API key from the environment', () => {
  it('is configured by its hash only and works as an admin', async () => {
    const { loadConfig } = await import('../src/config/load-config.js');
    const config = await loadConfig({
      env: { MOODLE_SITES: 'http://127.0.0.1:9,t', GATEWAY_ADMIN_API_KEY: 'env-admin-key-123' },
    });
    expect(JSON.stringify(config)).not.toContain('env-admin-key-123');
    expect(config.auth.apiKeys).toEqual([expect.objectContaining({ id: 'env-admin', role: 'admin' })]);
  });
});
