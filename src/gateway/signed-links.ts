import { errors, jwtVerify, SignJWT } from 'jose';

/** What a download link grants: one remote file of one user on one site, until it expires. */
export interface DownloadGrant {
  readonly tenant: string;
  readonly site: string;
  readonly username: string;
  readonly relativepath: string;
  /** The name the user's browser saves the file as. */
  readonly filename: string;
}

export type VerifiedLink =
  | { readonly ok: true; readonly grant: DownloadGrant; readonly expiresAt: Date }
  | { readonly ok: false; readonly reason: 'expired' | 'invalid' };

export interface SignedLinksOptions {
  /** HMAC-SHA256 key: at least 32 bytes. */
  readonly secret: Uint8Array;
  /** @default 300 */
  readonly ttlSeconds?: number;
  readonly now?: () => Date;
}

export interface SignedLinks {
  sign(grant: DownloadGrant): Promise<{ readonly token: string; readonly expiresAt: Date }>;
  verify(token: string): Promise<VerifiedLink>;
}

// A distinct audience keeps a download link from ever passing as another kind of token signed elsewhere.
const AUDIENCE = 'moodle-gateway:download';
const MAX_TOKEN_LENGTH = 4096;

/** Links are capabilities, like pre-signed object-store URLs: a browser follows one without headers. */
export function createSignedLinks({
  secret,
  ttlSeconds = 300,
  now = () => new Date(),
}: SignedLinksOptions): SignedLinks {
  if (secret.byteLength < 32) throw new Error('the download-link secret must be at least 32 bytes');
  return {
    async sign(grant) {
      const issuedAt = Math.floor(now().getTime() / 1000);
      const expiresAt = new Date((issuedAt + ttlSeconds) * 1000);
      const token = await new SignJWT({
        tnt: grant.tenant,
        site: grant.site,
        usr: grant.username,
        path: grant.relativepath,
        name: grant.filename,
      })
        .setProtectedHeader({ alg: 'HS256' })
        .setAudience(AUDIENCE)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + ttlSeconds)
        .sign(secret);
      return { token, expiresAt };
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
        const { tnt, site, usr, path, name, exp } = payload;
        if (![tnt, site, usr, path, name].every((claim) => typeof claim === 'string') || exp === undefined) {
          return { ok: false, reason: 'invalid' };
        }
        return {
          ok: true,
          grant: {
            tenant: tnt as string,
            site: site as string,
            username: usr as string,
            relativepath: path as string,
            filename: name as string,
          },
          expiresAt: new Date(exp * 1000),
        };
      } catch (error) {
        return { ok: false, reason: error instanceof errors.JWTExpired ? 'expired' : 'invalid' };
      }
    },
  };
}
