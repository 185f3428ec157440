import type { CircuitSnapshot } from '../gateway/circuit-breaker.js';
import { builder } from './builder.js';

export const SITE_STATUSES = ['HEALTHY', 'DEGRADED', 'CIRCUIT_OPEN', 'HALF_OPEN'] as const;

export type SiteStatus = (typeof SITE_STATUSES)[number];

/** A circuit's state as a page shows it; a site without a breaker is always `HEALTHY`. */
export function siteStatusOf(circuit: CircuitSnapshot | undefined): SiteStatus {
  if (circuit === undefined) return 'HEALTHY';
  if (circuit.state === 'OPEN') return 'CIRCUIT_OPEN';
  if (circuit.state === 'HALF_OPEN') return 'HALF_OPEN';
  return circuit.consecutiveFailures > 0 ? 'DEGRADED' : 'HEALTHY';
}

export const SiteStatusEnum = builder.enumType('SiteStatus', {
  description:
    "The gateway's view of a site from its latest calls (its circuit breaker); reading it never calls the site.",
  values: {
    HEALTHY: { description: 'The latest call got an answer, or there was none yet: calls go through.' },
    DEGRADED: {
      description:
        'The latest calls failed (timeout, unreachable, unreadable answer, maintenance), but fewer times in a row than open the circuit: calls still go through.',
    },
    CIRCUIT_OPEN: {
      description:
        'The site failed too many times in a row: it is not asked, and every call is answered CIRCUIT_OPEN at once until its cool-down ends.',
    },
    HALF_OPEN: {
      description:
        'The cool-down is over: the next call goes through as a probe, one at a time. Its success makes the site HEALTHY; its failure opens the circuit again.',
    },
  } as const,
});
