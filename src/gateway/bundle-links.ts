import { errors, jwtVerify, SignJWT } from 'jose';

/** What a bundle link grants: one user's private files from these sites of one tenant, until it expires. */
export interface BundleGrant {
  readonly tenant: string;
  readonly username: string;
  /** The sites the caller saw when asking, in their order: the bundle never holds more. */
  readonly sites: readonly string[];
  /** The name the user's browser saves the bundle as. */
  readonly filename: string;
}

export type VerifiedBundleLink =
  | { readonly ok: true; readonly grant: BundleGrant; readonly expiresAt: Date }
  | { readonly ok: false; readonly reason: 'expired' | 'invalid' };

export interface BundleLinksOptions {
  /** HMAC-SHA256 key, the download links' own: at least 32 bytes. */
  readonly secret: Uint8Array;
  /** @default 300 */
  readonly ttlSeconds?: number;
  readonly now?: () => Date;
}

export interface BundleLinks {
  sign(grant: BundleGrant): Promise<{ readonly token: string; readonly expiresAt: Date }>;
  verify(token: string): Promise<VerifiedBundleLink>;
}

// Its own audience: a bundle link never passes as a download link, nor the other way round.
const AUDIENCE = 'moodle-gateway:bundle';
const MAX_TOKEN_LENGTH = 4096;

/** Signed, expiring capabilities a browser follows without headers, like the download links. */
export function createBundleLinks({
  secret,
  ttlSeconds = 300,
  now = () => new Date(),
}: BundleLinksOptions): BundleLinks {
  if (secret.byteLength < 32) throw new Error('the bundle-link secret must be at least 32 bytes');
  return {
    async sign(grant) {
      const issuedAt = Math.floor(now().getTime() / 1000);
      const token = await new SignJWT({
        tnt: grant.tenant,
        usr: grant.username,
        sites: [...grant.sites],
        name: grant.filename,
      })
        .setProtectedHeader({ alg: 'HS256' })
        .setAudience(AUDIENCE)
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
          audience: AUDIENCE,
          currentDate: now(),
          requiredClaims: ['exp'],
        });
        const { tnt, usr, sites, name, exp } = payload;
        if (
          typeof tnt !== 'string' ||
          typeof usr !== 'string' ||
          typeof name !== 'string' ||
          !Array.isArray(sites) ||
          !sites.every((site) => typeof site === 'string') ||
          exp === undefined
        ) {
          return { ok: false, reason: 'invalid' };
        }
        return {
          ok: true,
          grant: { tenant: tnt, username: usr, sites: sites as string[], filename: name },
          expiresAt: new Date(exp * 1000),
        };
      } catch (error) {
        return { ok: false, reason: error instanceof errors.JWTExpired ? 'expired' : 'invalid' };
      }
    },
  };
}
