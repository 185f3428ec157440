import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/config-schema.js';
import { withCircuitBreaker } from '../gateway/circuit-breaker.js';
import type { MoodleSite } from '../gateway/site.js';
import type { RetryPolicy } from '../moodle/retry-policy.js';

/** Site info's retry policy, as configured (`retries`). */
export function siteInfoRetryPolicy({ retries }: GatewayConfig): RetryPolicy {
  return {
    retries: retries.siteInfo,
    baseDelayMs: retries.baseDelayMs,
    maxDelayMs: retries.maxDelayMs,
    maxRetryAfterMs: retries.maxRetryAfterMs,
  };
}

/**
 * The site behind its circuit breaker, as configured (`circuitBreaker`; a threshold of 0 leaves it
 * bare). Put it outermost, so that `circuit()` stays readable on the registered site.
 */
export function guardSite(
  site: MoodleSite,
  { circuitBreaker }: GatewayConfig,
  logger: Logger,
  onChange?: () => void,
): MoodleSite {
  const { failureThreshold, openMs } = circuitBreaker;
  if (failureThreshold === 0) return site;
  return withCircuitBreaker(site, {
    failureThreshold,
    openMs,
    ...(onChange && { onChange }),
    onStateChange: ({ site: id, from, to, snapshot }) => {
      const fields = {
        site: id,
        from,
        to,
        consecutiveFailures: snapshot.consecutiveFailures,
        lastFailure: snapshot.lastFailure,
        probeAt: snapshot.probeAt?.toISOString(),
      };
      if (to === 'OPEN') {
        logger.warn(
          fields,
          `circuit open: ${id} is answered CIRCUIT_OPEN without being asked for ${openMs} ms`,
        );
      } else {
        logger.info(fields, `circuit ${to.toLowerCase().replace('_', '-')}: ${id} is asked again`);
      }
    },
  });
}
