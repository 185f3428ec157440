import type { SiteRegistry } from '../gateway/site-registry.js';
import type { CircuitState, CircuitStateSample } from './metrics.js';

/** What a circuit-breaking site exposes (see `withCircuitBreaker`): its state, read without a call. */
interface ReadableCircuit {
  circuit(): { readonly state: string };
}

function hasCircuit(site: object): site is ReadableCircuit {
  return typeof (site as Partial<ReadableCircuit>).circuit === 'function';
}

/** `HALF_OPEN` → `half-open`: the breaker's names, as metric label values. */
export function circuitStateLabel(state: string): CircuitState | null {
  const label = state.toLowerCase().replace('_', '-');
  return label === 'closed' || label === 'open' || label === 'half-open' ? label : null;
}

/**
 * The circuit state of every registered site behind a breaker, read at each scrape; sites without a
 * breaker are left out.
 */
export function circuitStatesOf(registry: SiteRegistry, tenants: () => readonly string[]) {
  return function* (): Generator<CircuitStateSample> {
    for (const tenant of tenants()) {
      for (const entry of registry.list(tenant, { includeDisabled: true })) {
        if (!hasCircuit(entry.site)) continue;
        const state = circuitStateLabel(entry.site.circuit().state);
        if (state !== null) yield { tenant, site: entry.id, state };
      }
    }
  };
}

/** The sites' health views with each one's circuit state, when it has a breaker. */
export function withCircuits<T extends { readonly tenant: string; readonly site: string }>(
  views: readonly T[],
  samples: Iterable<CircuitStateSample>,
): (T & { readonly circuit?: CircuitState })[] {
  const states = new Map<string, CircuitState>();
  for (const sample of samples) states.set(`${sample.tenant}\u0000${sample.site}`, sample.state);
  return views.map((view) => {
    const circuit = states.get(`${view.tenant}\u0000${view.site}`);
    return circuit === undefined ? view : { ...view, circuit };
  });
}
