import { createHash, randomBytes } from 'node:crypto';

const TOKEN_FORMAT = /^[0-9a-f]{32}$/;

/** A new web-service token: 32 lower-case hex characters from the CSPRNG, like Moodle's. */
export function generateToken(): string {
  return randomBytes(16).toString('hex');
}

export function isTokenFormat(value: string): boolean {
  return TOKEN_FORMAT.test(value);
}

/** The SHA-256 hex under which a token is stored, so a leaked database holds no usable token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The last characters of a token, kept in clear so people can tell their tokens apart. */
export function tokenHint(token: string): string {
  return token.slice(-4);
}

/** The only form in which a token is shown after its creation, e.g. `••••…a1b2`. */
export function maskToken(hint: string): string {
  return `••••…${hint}`;
}
