import { describe, expect, it } from 'vitest';
import { type CircuitStateSample, createMetrics } from '../src/server/metrics.js';
import { parsePrometheus, sampleSum } from './support/prometheus-text.js';

const scrape = async (metrics: ReturnType<typeof createMetrics>) => parsePrometheus(await metrics.render());

describe('createMetrics', () => {
  it('gives each gateway its own registry: two instances never share a counter', async () => {
    const a = createMetrics({ collectDefaultMetrics: false });
    const b = createMetrics({ collectDefaultMetrics: false });
    a.graphqlOperation({ type: 'query', name: 'Sites', outcome: 'ok', seconds: 0.01 });
    expect(sampleSum(await scrape(a), 'moodle_gateway_graphql_operations_total')).toBe(1);
    expect(sampleSum(await scrape(b), 'moodle_gateway_graphql_operations_total')).toBe(0);
  });

  it('includes the process metrics unless told not to', async () => {
    expect((await createMetrics().render()).includes('moodle_gateway_process_cpu_seconds_total')).toBe(true);
    expect((await createMetrics({ collectDefaultMetrics: false }).render()).includes('process_cpu')).toBe(
      false,
    );
  });

  it('reads the circuit states from the hook at every scrape, one series per state', async () => {
    const metrics = createMetrics({ collectDefaultMetrics: false });
    expect(sampleSum(await scrape(metrics), 'moodle_gateway_site_circuit_state')).toBe(0);
    let states: CircuitStateSample[] = [{ tenant: 'default', site: 'lettres', state: 'open' }];
    metrics.setCircuitStateSource(() => states);
    const open = await scrape(metrics);
    expect(sampleSum(open, 'moodle_gateway_site_circuit_state', { site: 'lettres', state: 'open' })).toBe(1);
    expect(sampleSum(open, 'moodle_gateway_site_circuit_state', { site: 'lettres', state: 'closed' })).toBe(
      0,
    );
    states = [{ tenant: 'default', site: 'lettres', state: 'half-open' }];
    const probing = await scrape(metrics);
    expect(
      sampleSum(probing, 'moodle_gateway_site_circuit_state', { site: 'lettres', state: 'half-open' }),
    ).toBe(1);
    expect(sampleSum(probing, 'moodle_gateway_site_circuit_state', { site: 'lettres', state: 'open' })).toBe(
      0,
    );
  });

  it('caps the distinct GraphQL operation names callers can create, counting the rest as other', async () => {
    const metrics = createMetrics({ collectDefaultMetrics: false, maxOperationNames: 2 });
    for (const name of ['A', 'B', 'C', 'D', 'A', null])
      metrics.graphqlOperation({ type: 'query', name, outcome: 'ok' });
    const samples = await scrape(metrics);
    const count = (name: string) => sampleSum(samples, 'moodle_gateway_graphql_operations_total', { name });
    expect([count('A'), count('B'), count('other'), count('anonymous')]).toEqual([2, 1, 2, 1]);
  });

  it('counts a failed cleanup run apart from successful ones', async () => {
    const metrics = createMetrics({ collectDefaultMetrics: false });
    metrics.cleanupRan({ result: null, seconds: 0.1, at: 1_700_000_000_000 });
    metrics.cleanupRan({
      result: { deletedZips: 3, skippedZipsUnderRead: 0, freedBlobs: 1, freedBytes: 2048 },
      seconds: 0.2,
      at: 1_700_000_060_000,
    });
    const samples = await scrape(metrics);
    expect(sampleSum(samples, 'moodle_gateway_provider_cleanup_runs_total', { outcome: 'failed' })).toBe(1);
    expect(sampleSum(samples, 'moodle_gateway_provider_cleanup_runs_total', { outcome: 'ok' })).toBe(1);
    expect(sampleSum(samples, 'moodle_gateway_provider_cleanup_deleted_zips_total')).toBe(3);
    expect(sampleSum(samples, 'moodle_gateway_provider_cleanup_freed_bytes_total')).toBe(2048);
    expect(sampleSum(samples, 'moodle_gateway_provider_cleanup_last_run_timestamp_seconds')).toBe(
      1_700_000_060,
    );
  });
});
