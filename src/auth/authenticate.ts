import { createHash, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose';
import type { Caller } from './caller.js';

export interface JwtOptions {
  /** HS256 shared secret; or `jwksUrl`. */
  readonly secret?: string;
  readonly jwksUrl?: string;
  readonly issuer?: string;
  readonly audience?: string;
  /** @default ['preferred_username', 'sub'] */
  readonly usernameClaims: readonly string[];
  /** @default 'tenant' */
  readonly tenantClaim: string;
  /** @default 30 */
  readonly clockToleranceSeconds: number;
}

export interface ApiKeyOptions {
  readonly id: string;
  /** SHA-256 of the key, lower-case hex. */
  readonly sha256: string;
  readonly role: 'service' | 'admin' | 'tenant-admin';
  readonly tenant: string;
}

export interface AuthenticatorOptions {
  readonly jwt?: JwtOptions;
  readonly apiKeys: readonly ApiKeyOptions[];
}

/** The caller presented credentials that do not hold: 401, whatever the operation. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
  readonly code = 'UNAUTHENTICATED';
}

export type Authenticate = (authorization: string | undefined, ip: string) => Promise<Caller>;

const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
];
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** `Authorization: Bearer …` → a caller: a JWT makes a user, an API key a service or an admin; none, anonymous. */
export function createAuthenticator({ jwt, apiKeys }: AuthenticatorOptions): Authenticate {
  const keys = apiKeys.map((key) => ({ ...key, digest: Buffer.from(key.sha256, 'hex') }));
  const verifyJwt = jwt ? createJwtVerifier(jwt) : null;

  return async (authorization, ip) => {
    if (authorization === undefined || authorization === '')
      return { role: 'anonymous', tenant: 'default', ip };
    const match = /^Bearer ([\x21-\x7e]{1,8192})$/i.exec(authorization.trim());
    if (!match?.[1]) throw new AuthenticationError('the Authorization header must be "Bearer <token>"');
    const credential = match[1];

    if (JWT_SHAPE.test(credential) && verifyJwt) return verifyJwt(credential, ip);

    const digest = createHash('sha256').update(credential, 'utf8').digest();
    // Every key is compared, in constant time, so timing tells nothing about which key came close.
    let found: (typeof keys)[number] | undefined;
    for (const key of keys) if (timingSafeEqual(key.digest, digest) && !found) found = key;
    if (!found) throw new AuthenticationError('the bearer token is not valid');
    return { role: found.role, tenant: found.tenant, keyId: found.id, ip };
  };
}

function createJwtVerifier(options: JwtOptions) {
  const secret = options.secret !== undefined ? new TextEncoder().encode(options.secret) : undefined;
  const jwks = options.jwksUrl !== undefined ? createRemoteJWKSet(new URL(options.jwksUrl)) : undefined;
  const verifyOptions: JWTVerifyOptions = {
    algorithms: secret ? ['HS256'] : ASYMMETRIC_ALGORITHMS,
    clockTolerance: options.clockToleranceSeconds,
    requiredClaims: ['exp'],
    ...(options.issuer !== undefined && { issuer: options.issuer }),
    ...(options.audience !== undefined && { audience: options.audience }),
  };

  return async (token: string, ip: string): Promise<Caller> => {
    let payload: JWTPayload;
    try {
      payload = secret
        ? (await jwtVerify(token, secret, verifyOptions)).payload
        : (await jwtVerify(token, jwks as ReturnType<typeof createRemoteJWKSet>, verifyOptions)).payload;
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new AuthenticationError('the token has expired');
      if (error instanceof errors.JWTClaimValidationFailed) {
        throw new AuthenticationError(`the token's "${error.claim}" claim is not accepted`);
      }
      throw new AuthenticationError('the token is not valid');
    }
    const username = options.usernameClaims
      .map((claim) => payload[claim])
      .find((value): value is string => typeof value === 'string' && value !== '');
    if (username === undefined) throw new AuthenticationError('the token names no user');
    const tenant = payload[options.tenantClaim];
    return {
      role: 'user',
      username,
      tenant: typeof tenant === 'string' && tenant !== '' ? tenant : 'default',
      ip,
    };
  };
}
