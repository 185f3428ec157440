import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { SiteCallEvent, SiteCallObserver, SiteDownloadEnd } from '../gateway/observed-site.js';
import type { CleanupRunEvent } from '../provider/cleanup-job.js';
import type { ZipBuildEvent } from '../provider/observed-zip-builder.js';
import type { GraphQLOperationEvent } from './use-graphql-metrics.js';

/** A circuit's state as the breaker reports it; `half-open` lets one probe through. */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitStateSample {
  readonly tenant: string;
  readonly site: string;
  readonly state: CircuitState;
}

export interface CreateMetricsOptions {
  /**
   * Adds Node's process metrics (CPU, memory, event-loop lag, GC) to the same registry.
   * @default true
   */
  readonly collectDefaultMetrics?: boolean;
  /**
   * Distinct GraphQL operation names kept as label values; later names are counted as `other`.
   * Operation names are chosen by callers, so without a cap a client could grow the registry at will.
   * @default 100
   */
  readonly maxOperationNames?: number;
}

/**
 * Every metric the gateway exports, on a registry of its own (never prom-client's global one, so
 * that several gateways in one process, as in tests, never share counters). The members are the
 * observer callbacks the gateway's parts call; they never throw.
 */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** The Prometheus text format's content type. */
  readonly contentType: string;
  /** The exposition text, as `/metrics` answers it. */
  render(): Promise<string>;
  /** Remote calls through the `MoodleSite` port: latency, failures by code, download bytes. */
  readonly siteCalls: SiteCallObserver;
  /** The GraphQL response cache's lookups (requests it could have answered). */
  responseCacheLookup(hit: boolean): void;
  /** The site-info cache's lookups. */
  siteInfoCacheLookup(event: { readonly tenant: string; readonly site: string; readonly hit: boolean }): void;
  /** The local provider's zip builds. */
  zipBuilt(event: ZipBuildEvent): void;
  /** The local provider's cleanup runs (scheduled or `moodle-gateway cleanup`). */
  cleanupRan(event: CleanupRunEvent): void;
  /** GraphQL operations, after execution (or after failing validation). */
  graphqlOperation(event: GraphQLOperationEvent): void;
  /** HTTP requests, by route pattern (never the raw URL: download links carry a capability). */
  httpRequest(event: {
    readonly method: string;
    readonly route: string;
    readonly status: number;
    readonly seconds: number;
  }): void;
  /**
   * The hook for the circuit breaker: `source` is read at every scrape, so the gauge is always the
   * breaker's current view. Calling it again replaces the source.
   */
  setCircuitStateSource(source: () => Iterable<CircuitStateSample>): void;
}

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half-open'];

// Site calls span a cached site-info answer (ms) to a zip of a large private area (minutes).
const SITE_LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const GRAPHQL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];
const ZIP_SECONDS_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];
// 1 KiB to 4 GiB, by factors of 4.
const ZIP_BYTES_BUCKETS = Array.from({ length: 12 }, (_, index) => 1024 * 4 ** index);

export function createMetrics(options: CreateMetricsOptions = {}): GatewayMetrics {
  const { collectDefaultMetrics: withDefaults = true, maxOperationNames = 100 } = options;
  const registry = new Registry();
  const registers = [registry];
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'moodle_gateway_' });

  const siteDuration = new Histogram({
    name: 'moodle_gateway_site_request_duration_seconds',
    help: 'Latency of calls to a remote site, by web-service function (or "download": until its headers)',
    labelNames: ['tenant', 'site', 'function', 'outcome'] as const,
    buckets: SITE_LATENCY_BUCKETS,
    registers,
  });
  const siteFailures = new Counter({
    name: 'moodle_gateway_site_failures_total',
    help: 'Failed calls to a remote site, by failure code (TIMEOUT, UNREACHABLE, INVALID_TOKEN, …)',
    labelNames: ['tenant', 'site', 'function', 'code'] as const,
    registers,
  });
  const circuitState = new Gauge({
    name: 'moodle_gateway_site_circuit_state',
    help: 'Circuit breaker state per site: 1 for the current state (closed, open, half-open), 0 for the others',
    labelNames: ['tenant', 'site', 'state'] as const,
    registers,
  });
  const responseCacheLookups = new Counter({
    name: 'moodle_gateway_graphql_response_cache_lookups_total',
    help: 'GraphQL requests looked up in the response cache, by outcome (hit: answered from it)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const responseCacheHit = responseCacheLookups.labels({ outcome: 'hit' });
  const responseCacheMiss = responseCacheLookups.labels({ outcome: 'miss' });
  const cacheHits = new Counter({
    name: 'moodle_gateway_site_info_cache_hits_total',
    help: 'Site-info lookups answered from the cache or joined to a call already in flight',
    labelNames: ['tenant', 'site'] as const,
    registers,
  });
  const cacheMisses = new Counter({
    name: 'moodle_gateway_site_info_cache_misses_total',
    help: 'Site-info lookups that called the site',
    labelNames: ['tenant', 'site'] as const,
    registers,
  });
  const downloadBytes = new Counter({
    name: 'moodle_gateway_download_bytes_total',
    help: 'Bytes streamed from remote sites to download clients',
    labelNames: ['tenant', 'site'] as const,
    registers,
  });
  const downloadsActive = new Gauge({
    name: 'moodle_gateway_downloads_active',
    help: 'Downloads being streamed right now',
    labelNames: ['tenant', 'site'] as const,
    registers,
  });
  const downloads = new Counter({
    name: 'moodle_gateway_downloads_total',
    help: 'Downloads that ended, by outcome: complete, or aborted (client left or the site stopped sending)',
    labelNames: ['tenant', 'site', 'outcome'] as const,
    registers,
  });
  const zipSeconds = new Histogram({
    name: 'moodle_gateway_provider_zip_build_duration_seconds',
    help: 'Time the local provider took to build a private-files zip',
    labelNames: ['outcome'] as const,
    buckets: ZIP_SECONDS_BUCKETS,
    registers,
  });
  const zipBytes = new Histogram({
    name: 'moodle_gateway_provider_zip_size_bytes',
    help: 'Size of the zips the local provider built',
    buckets: ZIP_BYTES_BUCKETS,
    registers,
  });
  const cleanupRuns = new Counter({
    name: 'moodle_gateway_provider_cleanup_runs_total',
    help: 'Runs of the local provider cleanup, by outcome (ok, failed)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const cleanupDeletedZips = new Counter({
    name: 'moodle_gateway_provider_cleanup_deleted_zips_total',
    help: 'Generated zips the local provider cleanup deleted',
    registers,
  });
  const cleanupFreedBytes = new Counter({
    name: 'moodle_gateway_provider_cleanup_freed_bytes_total',
    help: 'Bytes of unreferenced blobs the local provider cleanup freed',
    registers,
  });
  const cleanupLastRun = new Gauge({
    name: 'moodle_gateway_provider_cleanup_last_run_timestamp_seconds',
    help: 'When the local provider cleanup last finished (Unix seconds), whatever its outcome',
    registers,
  });
  const graphqlOperations = new Counter({
    name: 'moodle_gateway_graphql_operations_total',
    help: 'GraphQL operations, by type, name and outcome (ok, error: the result has errors; invalid: refused before execution)',
    labelNames: ['type', 'name', 'outcome'] as const,
    registers,
  });
  const graphqlDuration = new Histogram({
    name: 'moodle_gateway_graphql_operation_duration_seconds',
    help: 'Execution time of GraphQL operations',
    labelNames: ['type', 'name'] as const,
    buckets: GRAPHQL_BUCKETS,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'moodle_gateway_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: GRAPHQL_BUCKETS,
    registers,
  });

  let circuitSource: (() => Iterable<CircuitStateSample>) | null = null;
  // Read at scrape time: prom-client calls `collect` before serialising the gauge.
  Object.assign(circuitState, {
    collect() {
      circuitState.reset();
      if (circuitSource === null) return;
      for (const sample of circuitSource()) {
        for (const state of CIRCUIT_STATES) {
          circuitState.set(
            { tenant: sample.tenant, site: sample.site, state },
            state === sample.state ? 1 : 0,
          );
        }
      }
    },
  });

  const operationNames = new Set<string>();
  function operationLabel(name: string | null): string {
    if (name === null || name === '') return 'anonymous';
    if (operationNames.has(name)) return name;
    if (operationNames.size >= maxOperationNames) return 'other';
    operationNames.add(name);
    return name;
  }

  const siteCalls: SiteCallObserver = {
    called({ tenant, site, fn, seconds, failure }: SiteCallEvent) {
      siteDuration.observe({ tenant, site, function: fn, outcome: failure ? 'failure' : 'ok' }, seconds);
      if (failure) siteFailures.inc({ tenant, site, function: fn, code: failure });
    },
    downloadStarted({ tenant, site }) {
      downloadsActive.inc({ tenant, site });
    },
    downloadBytes({ tenant, site }, bytes) {
      downloadBytes.inc({ tenant, site }, bytes);
    },
    downloadEnded({ tenant, site }, end: SiteDownloadEnd) {
      downloadsActive.dec({ tenant, site });
      downloads.inc({ tenant, site, outcome: end });
    },
  };

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    siteCalls,
    responseCacheLookup(hit) {
      (hit ? responseCacheHit : responseCacheMiss).inc();
    },
    siteInfoCacheLookup({ tenant, site, hit }) {
      (hit ? cacheHits : cacheMisses).inc({ tenant, site });
    },
    zipBuilt({ seconds, outcome, bytes }) {
      zipSeconds.observe({ outcome }, seconds);
      if (bytes !== undefined) zipBytes.observe(bytes);
    },
    cleanupRan({ result, at }) {
      cleanupRuns.inc({ outcome: result ? 'ok' : 'failed' });
      cleanupLastRun.set(at / 1000);
      if (result) {
        cleanupDeletedZips.inc(result.deletedZips);
        cleanupFreedBytes.inc(result.freedBytes);
      }
    },
    graphqlOperation({ type, name, outcome, seconds }) {
      const labels = { type, name: operationLabel(name) };
      graphqlOperations.inc({ ...labels, outcome });
      if (seconds !== undefined) graphqlDuration.observe(labels, seconds);
    },
    httpRequest({ method, route, status, seconds }) {
      httpDuration.observe({ method, route, status: String(status) }, seconds);
    },
    setCircuitStateSource(source) {
      circuitSource = source;
    },
  };
}
