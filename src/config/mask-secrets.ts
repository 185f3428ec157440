/** What a secret is replaced with wherever configuration is shown. */
export const MASK = '********';

// By name rather than by path, so that a secret added to the schema later is masked without anyone
// remembering to list it here.
const SECRET_KEY =
  /^(?:key|hash)$|(?:token|secret|password|passphrase|privatekey|private_key|credentials?)s?$/i;

/**
 * Whether a configuration key holds a secret (`token`, `downloadLinks.secret`, `key`, …). A list of
 * API keys by their SHA-256 (`auth.apiKeys`) is not one: its ids and roles stay readable.
 */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * A copy of a configuration with every secret string replaced by `MASK`: the value of a secret key,
 * and every string inside an array or object held by one. Empty strings stay visible (so that "not
 * set" shows), and so do numbers and booleans (`maxTokens: 1000` is a limit, not a secret).
 */
export function maskSecrets<T>(value: T): T {
  return mask(value, false) as T;
}

function mask(value: unknown, secret: boolean): unknown {
  if (typeof value === 'string') return secret && value !== '' ? MASK : value;
  if (Array.isArray(value)) return value.map((item) => mask(item, secret));
  if (value === null || typeof value !== 'object') return value;
  const masked: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) masked[key] = mask(inner, secret || isSecretKey(key));
  return masked;
}
