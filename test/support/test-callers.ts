import { SignJWT } from 'jose';
import { sha256Hex } from '../../src/auth/authenticate.js';

/** An HS256 secret for test gateways that accept user JWTs. */
export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789abcdef-0123456789';

/** A user's bearer token: `sub` is the username; `tenant` (the default claim) names the tenant when given. */
export function userJwt(username: string, tenant?: string): Promise<string> {
  return new SignJWT({ sub: username, ...(tenant !== undefined && { tenant }) })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

/** An API key as configured (its SHA-256) and as presented (the clear key). */
export function apiKey(id: string, role: 'service' | 'admin' | 'tenant-admin', tenant = 'default') {
  const key = `${id}-key-0123456789abcdef`;
  return { key, config: { id, sha256: sha256Hex(key), role, tenant } } as const;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
