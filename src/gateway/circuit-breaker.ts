import { fail, type Result, type SiteFailureCode, siteFailure } from '../moodle/failures.js';
import type { MoodleSite } from './site.js';

/**
 * A circuit's state, as circuit breakers name them:
 * - `CLOSED`: calls reach the site.
 * - `OPEN`: the site failed `failureThreshold` times in a row; every call is answered `CIRCUIT_OPEN` at
 *   once, without asking the site, until the cool-down (`openMs`) is over.
 * - `HALF_OPEN`: the cool-down is over; the next call goes through as a probe (one at a time, the
 *   others still answered `CIRCUIT_OPEN`). Its success closes the circuit, its failure opens it again.
 */
export type CircuitState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

export interface CircuitSnapshot {
  readonly state: CircuitState;
  /** Failures in a row that said the site is unwell; any other answer resets it. */
  readonly consecutiveFailures: number;
  /** The code of the latest of those failures, while there are some. */
  readonly lastFailure: SiteFailureCode | null;
  /** While `OPEN`: when the next call will be let through as a probe. */
  readonly probeAt: Date | null;
}

/**
 * The failures that say a site is unwell. The others (a wrong token, an unknown user, an empty area,
 * a Moodle exception) are answers: the site is up, so they close the circuit like a success.
 */
export const UNWELL_FAILURES: ReadonlySet<SiteFailureCode> = new Set([
  'TIMEOUT',
  'UNREACHABLE',
  'BAD_RESPONSE',
  'MAINTENANCE',
]);

export interface CircuitBreakerOptions {
  /**
   * Unwell failures in a row that open the circuit.
   * @default 5
   */
  readonly failureThreshold?: number;
  /**
   * How long an open circuit answers `CIRCUIT_OPEN` before letting one probe through.
   * @default 30_000
   */
  readonly openMs?: number;
  /** Told of every change of state, for logs and metrics. Must not throw. */
  readonly onStateChange?: (change: {
    readonly site: string;
    readonly from: CircuitState;
    readonly to: CircuitState;
    readonly snapshot: CircuitSnapshot;
  }) => void;
  /**
   * Told whenever the snapshot changes other than by the clock (a failure counted, the circuit
   * opened or closed): what is shown of the site is then out of date. Must not throw.
   */
  readonly onChange?: () => void;
  /** @default Date.now */
  readonly now?: () => number;
}

/** A site behind a breaker, whose state can be read without calling the site. */
export interface CircuitBreakingSite extends MoodleSite {
  circuit(): CircuitSnapshot;
}

type Admission = { readonly probe: boolean } | { readonly refused: true };

/**
 * Decorates a `MoodleSite` with a circuit breaker: once a site keeps failing, callers get
 * `CIRCUIT_OPEN` at once instead of waiting for its deadline, and the site gets time to recover.
 * Its state is computed on each call from the clock: no timer runs.
 *
 * What counts: every call of the port (site info, zip, opening a download), after the client's own
 * retries. A caller's cancellation or an unexpected error says nothing of the site and is not counted.
 */
export function withCircuitBreaker(
  site: MoodleSite,
  options: CircuitBreakerOptions = {},
): CircuitBreakingSite {
  const { failureThreshold = 5, openMs = 30_000, onStateChange, onChange, now = Date.now } = options;
  if (!Number.isInteger(failureThreshold) || failureThreshold < 1) {
    throw new RangeError('failureThreshold must be a positive integer');
  }

  let open = false;
  let probeAt = 0;
  let probing = false;
  let consecutiveFailures = 0;
  let lastFailure: SiteFailureCode | null = null;

  const stateAt = (time: number): CircuitState => (!open ? 'CLOSED' : time < probeAt ? 'OPEN' : 'HALF_OPEN');

  const snapshot = (): CircuitSnapshot => {
    const state = stateAt(now());
    return { state, consecutiveFailures, lastFailure, probeAt: state === 'OPEN' ? new Date(probeAt) : null };
  };

  function transition(from: CircuitState, change: () => void): void {
    const was = { open, probeAt, consecutiveFailures, lastFailure };
    change();
    const changed =
      open !== was.open ||
      probeAt !== was.probeAt ||
      consecutiveFailures !== was.consecutiveFailures ||
      lastFailure !== was.lastFailure;
    if (changed) onChange?.();
    const to = stateAt(now());
    if (to !== from) onStateChange?.({ site: site.id, from, to, snapshot: snapshot() });
  }

  function admit(): Admission {
    if (!open) return { probe: false };
    if (probing || now() < probeAt) return { refused: true };
    probing = true;
    return { probe: true };
  }

  function record(probe: boolean, result: Result<unknown>): void {
    const from = stateAt(now());
    if (result.ok || !UNWELL_FAILURES.has(result.failure.code)) {
      transition(from, () => {
        open = false;
        consecutiveFailures = 0;
        lastFailure = null;
      });
      return;
    }
    const { code } = result.failure;
    transition(from, () => {
      consecutiveFailures += 1;
      lastFailure = code;
      // A call that was already under way when the circuit opened does not push the probe back.
      if (probe || (!open && consecutiveFailures >= failureThreshold)) {
        open = true;
        probeAt = now() + openMs;
      }
    });
  }

  function refusal<T>(): Result<T> {
    const waitMs = Math.max(0, probeAt - now());
    const why = `${site.id} failed ${consecutiveFailures} times in a row (last: ${lastFailure ?? 'unknown'})`;
    const when = probing
      ? 'a probe call is under way'
      : `it is asked again after ${new Date(probeAt).toISOString()}`;
    return fail(
      siteFailure('CIRCUIT_OPEN', `Not asked: ${why}, so its circuit is open; ${when}`, {
        retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
      }),
    );
  }

  async function guarded<T>(call: () => Promise<Result<T>>): Promise<Result<T>> {
    const admission = admit();
    if ('refused' in admission) return refusal();
    try {
      const result = await call();
      record(admission.probe, result);
      return result;
    } finally {
      // Also when the caller abandoned the probe (or it threw): the next call may probe.
      if (admission.probe) probing = false;
    }
  }

  return {
    id: site.id,
    url: site.url,
    circuit: snapshot,
    getSiteInfo: (callOptions) => guarded(() => site.getSiteInfo(callOptions)),
    createPrivateFilesZip: (username, callOptions) =>
      guarded(() => site.createPrivateFilesZip(username, callOptions)),
    openDownload: (relativepath, callOptions) => guarded(() => site.openDownload(relativepath, callOptions)),
  };
}

/** The circuit of a site behind a breaker, read without a call; `undefined` for a site without one. */
export function circuitOf(site: MoodleSite): CircuitSnapshot | undefined {
  const circuit = (site as Partial<CircuitBreakingSite>).circuit;
  return typeof circuit === 'function' ? circuit.call(site) : undefined;
}
