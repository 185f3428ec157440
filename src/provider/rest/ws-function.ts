import type { TokenGrant } from '../token-check.js';

/** What a web-service function sees of the call. */
export interface WsCallContext {
  /** The token's account and service, already checked. */
  readonly grant: TokenGrant;
  /** The function's arguments (every field but `wstoken`, `wsfunction` and `moodlewsrestformat`). */
  readonly params: Readonly<Record<string, string>>;
  /** The provider's base URL as the caller sees it (Moodle's `$CFG->wwwroot`). */
  readonly siteUrl: string;
  /** The language strings are given in: the account's, else the site's. */
  readonly lang: string;
  /** Aborted when the caller goes away. */
  readonly signal: AbortSignal;
}

/**
 * A web-service function the provider answers. `execute` returns the value to serialise (JSON or
 * XML; `undefined` members are optional fields left out) or throws a `MoodleWsError`.
 */
export interface WsFunction {
  readonly name: string;
  /** The component version `core_webservice_get_site_info` lists it with. */
  readonly version: string;
  execute(context: WsCallContext): Promise<unknown>;
}
