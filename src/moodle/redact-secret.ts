import type { SiteFailure } from './failures.js';

// Shorter strings occur in ordinary words, and redacting them would garble every message;
// a token that short is no secret anyway (Moodle's are 32 characters).
const MIN_SECRET_LENGTH = 6;

/** Belt and braces: whatever a site or a library echoes, a failure's message never carries the token. */
export function redactSecret(failure: SiteFailure, secret: string): SiteFailure {
  if (secret.length < MIN_SECRET_LENGTH || !failure.message.includes(secret)) {
    return failure;
  }
  return { ...failure, message: failure.message.split(secret).join('[redacted]') };
}
