import type { SiteCallEvent, SiteCallObserver } from '../gateway/observed-site.js';

/** One of our own dependencies `/readyz` depends on; `check` rejects (or throws) when it is not usable. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void> | void;
}

export interface SiteHealthView {
  readonly tenant: string;
  readonly site: string;
  /** `ok`, the last failure's code, or `unknown` before the first call. */
  readonly lastOutcome: string;
  /** ISO time of the last call; `null` before the first. */
  readonly lastCallAt: string | null;
  /** The circuit breaker's state, when a breaker reports one. */
  readonly circuit?: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  /** Each check: `ok`, or why it failed. */
  readonly checks: Readonly<Record<string, string>>;
  /** Reported, never counted against readiness: a flaky Moodle must not take the gateway out of rotation. */
  readonly sites: readonly SiteHealthView[];
}

export interface ReadinessOptions {
  readonly checks: readonly ReadinessCheck[];
  /** The sites' last known health, for the report only. @default none */
  readonly sites?: () => readonly SiteHealthView[];
  /** A check slower than this fails. @default 2000 */
  readonly timeoutMs?: number;
}

export interface Readiness {
  report(): Promise<ReadinessReport>;
}

/** `/readyz`: our own store and configuration decide; remote sites are only reported. */
export function createReadiness({ checks, sites = () => [], timeoutMs = 2000 }: ReadinessOptions): Readiness {
  return {
    async report() {
      const outcomes = await Promise.all(
        checks.map(async ({ name, check }) => [name, await runCheck(check, timeoutMs)] as const),
      );
      return {
        ready: outcomes.every(([, outcome]) => outcome === 'ok'),
        checks: Object.fromEntries(outcomes),
        sites: sites(),
      };
    },
  };
}

async function runCheck(check: ReadinessCheck['check'], timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      Promise.resolve()
        .then(check)
        .then(
          () => 'ok',
          (error: unknown) => (error instanceof Error ? error.message : String(error)) || 'failed',
        ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SiteHealthTracker extends SiteCallObserver {
  /**
   * Last known outcome of each of `known` (shown as `unknown` when never called), then of any other
   * site that was called.
   */
  snapshot(known?: readonly { readonly tenant: string; readonly site: string }[]): SiteHealthView[];
}

/** Remembers each site's last call outcome, fed by the observed sites; no remote call of its own. */
export function createSiteHealthTracker(now: () => Date = () => new Date()): SiteHealthTracker {
  const last = new Map<string, { tenant: string; site: string; outcome: string; at: Date }>();
  const noop = () => undefined;
  return {
    called({ tenant, site, failure }: SiteCallEvent) {
      last.set(`${tenant}\u0000${site}`, { tenant, site, outcome: failure ?? 'ok', at: now() });
    },
    downloadStarted: noop,
    downloadBytes: noop,
    downloadEnded: noop,
    snapshot(known = []) {
      const views = new Map<string, SiteHealthView>();
      for (const { tenant, site } of known) {
        views.set(`${tenant}\u0000${site}`, { tenant, site, lastOutcome: 'unknown', lastCallAt: null });
      }
      for (const [key, { tenant, site, outcome, at }] of last) {
        views.set(key, { tenant, site, lastOutcome: outcome, lastCallAt: at.toISOString() });
      }
      return [...views.values()];
    },
  };
}

/** One observer telling several. */
export function combineSiteObservers(...observers: readonly SiteCallObserver[]): SiteCallObserver {
  return {
    called: (event) => {
      for (const observer of observers) observer.called(event);
    },
    downloadStarted: (labels) => {
      for (const observer of observers) observer.downloadStarted(labels);
    },
    downloadBytes: (labels, bytes) => {
      for (const observer of observers) observer.downloadBytes(labels, bytes);
    },
    downloadEnded: (labels, end) => {
      for (const observer of observers) observer.downloadEnded(labels, end);
    },
  };
}
