import { Agent } from 'undici';

/**
 * undici checks its headers and body timeouts on a half-second tick, so they may fire up to that much
 * early. A call's exact deadline is its own AbortSignal; undici's timeouts are set this much later,
 * as a backstop that never cuts a site still within its deadline.
 */
export const UNDICI_TIMER_SLACK_MS = 1_000;

export interface AgentOptions {
  /**
   * Time allowed to open a TCP (and TLS) connection to a site.
   * @default 10_000
   */
  readonly connectTimeoutMs?: number;
  /**
   * Backstop between sending a request and receiving all response headers, for requests that do not
   * set their own. Every call of the Moodle client sets a tighter one from its deadline.
   * @default 30_000
   */
  readonly headersTimeoutMs?: number;
  /**
   * Backstop for the longest silence between two chunks of a response body, for requests that do not
   * set their own.
   * @default 30_000
   */
  readonly bodyTimeoutMs?: number;
  /**
   * How long an idle keep-alive connection is kept open when the site does not say.
   * @default 4_000
   */
  readonly keepAliveTimeoutMs?: number;
  /**
   * Upper bound for a keep-alive duration announced by a site.
   * @default 600_000
   */
  readonly keepAliveMaxTimeoutMs?: number;
  /**
   * Connections per site (per origin); further requests queue.
   * @default 64
   */
  readonly connectionsPerOrigin?: number;
}

/**
 * The one undici Agent of the process: a keep-alive pool per origin, so every site gets its own pool.
 * The caller owns it and closes it on shutdown.
 */
export function createAgent(options: AgentOptions = {}): Agent {
  const {
    connectTimeoutMs = 10_000,
    headersTimeoutMs = 30_000,
    bodyTimeoutMs = 30_000,
    keepAliveTimeoutMs = 4_000,
    keepAliveMaxTimeoutMs = 600_000,
    // Bounded because a Moodle's PHP worker pool is small: a burst queues here instead of
    // exhausting the site; generous because a running download holds its connection.
    connectionsPerOrigin = 64,
  } = options;
  return new Agent({
    // undici's own defaults (300 s) are far too long for a fan-out.
    connect: { timeout: connectTimeoutMs },
    headersTimeout: headersTimeoutMs,
    bodyTimeout: bodyTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    keepAliveMaxTimeout: keepAliveMaxTimeoutMs,
    connections: connectionsPerOrigin,
  });
}
