import { errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';

export type VerifiedGrant<G> =
  | { readonly ok: true; readonly grant: G; readonly expiresAt: Date }
  | { readonly ok: false; readonly reason: 'expired' | 'invalid' };

export interface CapabilityLinks<G> {
  sign(grant: G): Promise<{ readonly token: string; readonly expiresAt: Date }>;
  verify(token: string): Promise<VerifiedGrant<G>>;
}

export interface LinkSigningOptions {
  /** HMAC-SHA256 key: at least 32 bytes. */
  readonly secret: Uint8Array;
  /** @default 300 */
  readonly ttlSeconds?: number;
  readonly now?: () => Date;
}

export interface CapabilityCodec<G> {
  /** Each kind of link has its own, so that one kind never passes as another. */
  readonly audience: string;
  toClaims(grant: G): JWTPayload;
  /** The grant, or null when a claim is missing or of the wrong type. */
  fromClaims(claims: JWTPayload): G | null;
}

const MAX_TOKEN_LENGTH = 4096;

/**
 * Signed, expiring capabilities, like pre-signed object-store URLs: whoever holds one may use it,
 * a browser follows one without headers, and an edit in any part voids it.
 */
export function createCapabilityLinks<G>(
  codec: CapabilityCodec<G>,
  { secret, ttlSeconds = 300, now = () => new Date() }: LinkSigningOptions,
): CapabilityLinks<G> {
  if (secret.byteLength < 32) throw new Error('the link-signing secret must be at least 32 bytes');
  return {
    async sign(grant) {
      const issuedAt = Math.floor(now().getTime() / 1000);
      const token = await new SignJWT(codec.toClaims(grant))
        .setProtectedHeader({ alg: 'HS256' })
        .setAudience(codec.audience)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + ttlSeconds)
        .sign(secret);
      return { token, expiresAt: new Date((issuedAt + ttlSeconds) * 1000) };
    },
    async verify(token) {
      if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'invalid' };
      try {
        const { payload } = await jwtVerify(token, secret, {
          algorithms: ['HS256'],
          audience: codec.audience,
          currentDate: now(),
          requiredClaims: ['exp'],
        });
        const grant = codec.fromClaims(payload);
        if (grant === null || payload.exp === undefined) return { ok: false, reason: 'invalid' };
        return { ok: true, grant, expiresAt: new Date(payload.exp * 1000) };
      } catch (error) {
        return { ok: false, reason: error instanceof errors.JWTExpired ? 'expired' : 'invalid' };
      }
    },
  };
}

export const isString = (value: unknown): value is string => typeof value === 'string';
