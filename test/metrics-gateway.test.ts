import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';
import { parsePrometheus, type Sample, sampleSum } from './support/prometheus-text.js';
import { type LaunchedProvider, launchRestProvider } from './support/rest-provider-launcher.js';

const SITES = `query Sites { externalSites { id info { __typename } } }`;
const ZIP = `query Zip($site: ID!) {
  privateFilesZip(site: $site, username: "alice") { __typename ... on PrivateFilesZip { downloadUrl } }
}`;

describe('/metrics after known traffic', () => {
  let provider: LaunchedProvider;
  let gateway: TestGateway;
  let dataDir: string;
  let downloaded: number;
  let samples: Sample[];
  const fn = 'core_webservice_get_site_info';

  async function scrape(): Promise<Sample[]> {
    const response = await request(`${gateway.url}/metrics`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    return parsePrometheus(await response.body.text());
  }

  beforeAll(async () => {
    provider = await launchRestProvider({ siteName: 'Lettres', binaryBytes: 50_000 });
    dataDir = await mkdtemp(join(tmpdir(), 'metrics-gateway-'));
    gateway = await startTestGateway({
      sites: [
        { id: 'lettres', url: provider.url, token: provider.token },
        { id: 'revoked', url: provider.url, token: '0123456789abcdef0123456789abcdef' },
      ],
      provider: {
        enabled: true,
        seedDemo: true,
        federateAs: 'local',
        dataDir,
        // Every second, so that a run happens during the test.
        cleanup: { cron: '* * * * * *' },
      },
    });
    expect((await gateway.graphql(SITES)).status).toBe(200);
    expect((await gateway.graphql(SITES)).status).toBe(200);
    const remote = await gateway.graphql<{ privateFilesZip: { downloadUrl: string } }>(ZIP, {
      site: 'lettres',
    });
    const link = remote.body.data?.privateFilesZip.downloadUrl ?? '';
    const download = await request(link);
    expect(download.statusCode).toBe(200);
    downloaded = (await download.body.arrayBuffer()).byteLength;
    expect((await gateway.graphql(ZIP, { site: 'local' })).body.data).toMatchObject({
      privateFilesZip: { __typename: 'PrivateFilesZip' },
    });
    const deadline = Date.now() + 5000;
    do {
      samples = await scrape();
      if (sampleSum(samples, 'moodle_gateway_provider_cleanup_runs_total') > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    } while (Date.now() < deadline);
  });
  afterAll(async () => {
    await gateway?.close();
    await provider?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('counts each remote call in the latency histogram, by site, function and outcome', () => {
    // The second query and the zip's name lookup are answered by the cache.
    const ok = { site: 'lettres', function: fn, outcome: 'ok' };
    expect(sampleSum(samples, 'moodle_gateway_site_request_duration_seconds_count', ok)).toBe(1);
    expect(sampleSum(samples, 'moodle_gateway_site_request_duration_seconds_sum', ok)).toBeGreaterThan(0);
    expect(
      sampleSum(samples, 'moodle_gateway_site_request_duration_seconds_count', {
        site: 'lettres',
        function: 'block_my_external_privatefiles_get_private_files_zip',
      }),
    ).toBe(1);
  });

  it('counts failures by code, and a failure is never cached', () => {
    expect(
      sampleSum(samples, 'moodle_gateway_site_failures_total', {
        site: 'revoked',
        function: fn,
        code: 'INVALID_TOKEN',
      }),
    ).toBe(2);
    expect(sampleSum(samples, 'moodle_gateway_site_failures_total', { site: 'lettres' })).toBe(0);
  });

  it('counts site-info cache hits and misses', () => {
    expect(sampleSum(samples, 'moodle_gateway_site_info_cache_misses_total', { site: 'lettres' })).toBe(1);
    expect(sampleSum(samples, 'moodle_gateway_site_info_cache_hits_total', { site: 'lettres' })).toBe(2);
    expect(sampleSum(samples, 'moodle_gateway_site_info_cache_misses_total', { site: 'revoked' })).toBe(2);
  });

  it('counts the bytes streamed to a download client, and no download stays active', () => {
    expect(downloaded).toBeGreaterThan(50_000);
    expect(sampleSum(samples, 'moodle_gateway_download_bytes_total', { site: 'lettres' })).toBe(downloaded);
    expect(
      sampleSum(samples, 'moodle_gateway_downloads_total', { site: 'lettres', outcome: 'complete' }),
    ).toBe(1);
    expect(sampleSum(samples, 'moodle_gateway_downloads_active')).toBe(0);
  });

  it('times and sizes the zips the embedded provider builds', () => {
    expect(
      sampleSum(samples, 'moodle_gateway_provider_zip_build_duration_seconds_count', { outcome: 'created' }),
    ).toBe(1);
    expect(sampleSum(samples, 'moodle_gateway_provider_zip_size_bytes_count')).toBe(1);
    expect(sampleSum(samples, 'moodle_gateway_provider_zip_size_bytes_sum')).toBeGreaterThan(1000);
  });

  it('counts the provider cleanup runs', () => {
    expect(
      sampleSum(samples, 'moodle_gateway_provider_cleanup_runs_total', { outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleSum(samples, 'moodle_gateway_provider_cleanup_last_run_timestamp_seconds')).toBeGreaterThan(
      Date.now() / 1000 - 60,
    );
  });

  it('counts GraphQL operations by type and name, with their durations', () => {
    expect(
      sampleSum(samples, 'moodle_gateway_graphql_operations_total', {
        type: 'query',
        name: 'Sites',
        outcome: 'ok',
      }),
    ).toBe(2);
    expect(
      sampleSum(samples, 'moodle_gateway_graphql_operations_total', { type: 'query', name: 'Zip' }),
    ).toBe(2);
    expect(
      sampleSum(samples, 'moodle_gateway_graphql_operation_duration_seconds_count', { name: 'Sites' }),
    ).toBe(2);
  });

  it('labels HTTP requests by route pattern, never by the link itself', () => {
    expect(
      sampleSum(samples, 'moodle_gateway_http_request_duration_seconds_count', {
        route: '/download/:link',
        status: '200',
      }),
    ).toBe(1);
    expect(samples.some((sample) => (sample.labels.route ?? '').startsWith('/download/e'))).toBe(false);
  });

  it('moves when more traffic comes', async () => {
    await gateway.graphql(SITES);
    const after = await scrape();
    expect(sampleSum(after, 'moodle_gateway_graphql_operations_total', { name: 'Sites' })).toBe(3);
    expect(sampleSum(after, 'moodle_gateway_site_failures_total', { site: 'revoked' })).toBe(3);
  });
});
