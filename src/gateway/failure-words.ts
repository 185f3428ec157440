import type { SiteFailureCode } from '../moodle/failures.js';

/**
 * What a failure means for the person in front of the page, and what they can do: the words the
 * page, the error page and a bundle's README use. The site's own message stays beside them, for
 * whoever helps that person.
 */
const WORDS: Record<SiteFailureCode, string> = {
  TIMEOUT: 'The site took too long to answer. Try again in a few minutes.',
  UNREACHABLE: 'The site cannot be reached right now. Try again later, or go to the site directly.',
  INVALID_TOKEN: "The site no longer accepts this gateway's access. Please tell your administrator.",
  ACCESS_DENIED: "The site refused this gateway's request. Please tell your administrator.",
  USER_NOT_FOUND: 'The site has no account with your username.',
  NO_FILES: 'You have no files in your private area on this site.',
  FUNCTION_UNAVAILABLE: 'This site does not let this gateway retrieve private files.',
  MAINTENANCE: 'The site is under maintenance. Try again later.',
  BAD_RESPONSE: 'The site sent something the gateway could not understand. Try again later.',
  REMOTE_ERROR: 'The site reported an error. Try again later, or go to the site directly.',
  CIRCUIT_OPEN:
    'The site has been failing, so the gateway leaves it alone for a moment. Try again in a minute.',
};

export function failureInPlainWords(code: SiteFailureCode): string {
  return WORDS[code];
}

/** The same for a code that may be one of the gateway's own (an expired link, …): null when unknown. */
export function plainWordsFor(code: string): string | null {
  return Object.hasOwn(WORDS, code) ? WORDS[code as SiteFailureCode] : null;
}
