import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MoodleSite } from '../src/gateway/site.js';
import { createAgent } from '../src/moodle/agent.js';
import type { Result, SiteFailure } from '../src/moodle/failures.js';
import { createRemoteSite, type RemoteSiteOptions } from '../src/moodle/remote-site.js';
import { MIN_ATTEMPT_MS, retryDelayMs } from '../src/moodle/retry-policy.js';
import {
  type Behaviour,
  behaviours,
  type FaultInjector,
  moodleBodies,
  type RecordedRequest,
  startFaultInjector,
} from './support/fault-injector.js';

let injector: FaultInjector;
let agent: Agent;

beforeAll(async () => {
  injector = await startFaultInjector();
  agent = createAgent({ connectTimeoutMs: 2_000 });
});

afterAll(async () => {
  await injector.close();
  await agent.destroy();
});

function siteOn(options: Partial<RemoteSiteOptions> = {}): MoodleSite {
  return createRemoteSite({
    site: { id: 'peer', url: injector.url, token: 'retry-test-token-0123456789' },
    dispatcher: agent,
    timeouts: { siteInfoMs: 3_000, zipMs: 3_000 },
    siteInfoRetry: { retries: 2, baseDelayMs: 20, maxDelayMs: 100 },
    ...options,
  });
}

/** Answers the behaviours in turn, the last one from then on; times each request's arrival. */
function inTurn(...sequence: Behaviour[]): { arrivals: number[] } {
  const arrivals: number[] = [];
  injector.setBehaviour((_request: RecordedRequest) => {
    arrivals.push(performance.now());
    return sequence[Math.min(arrivals.length - 1, sequence.length - 1)] as Behaviour;
  });
  return { arrivals };
}

function failureOf(result: Result<unknown>): SiteFailure {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.failure;
}

describe('site info, an idempotent read, is asked again only when that is safe and useful', () => {
  it('asks again after a connection reset before any byte came back, and answers the site info', async () => {
    const { arrivals } = inTurn(behaviours.hangUp(), behaviours.moodle(moodleBodies.siteInfo));
    const result = await siteOn().getSiteInfo();
    expect(result).toMatchObject({ ok: true, value: { sitename: 'Peer Moodle 4.5' } });
    expect(arrivals).toHaveLength(2);
  });

  it('stops after the configured number of retries and answers UNREACHABLE', async () => {
    const { arrivals } = inTurn(behaviours.hangUp());
    const failure = failureOf(await siteOn().getSiteInfo());
    expect(failure.code).toBe('UNREACHABLE');
    expect(arrivals).toHaveLength(3);
  });

  it('does not retry at all when retries are turned off', async () => {
    const { arrivals } = inTurn(behaviours.hangUp(), behaviours.moodle(moodleBodies.siteInfo));
    expect(failureOf(await siteOn({ siteInfoRetry: { retries: 0 } }).getSiteInfo()).code).toBe('UNREACHABLE');
    expect(arrivals).toHaveLength(1);
  });

  it.each<[string, Behaviour, string]>([
    ['an HTML 500 page', behaviours.html(500), 'BAD_RESPONSE'],
    ['a reset in the middle of the answer', { kind: 'reset-mid-body', body: '{"sitename":' }, 'UNREACHABLE'],
    ['a Moodle error', behaviours.moodle(moodleBodies.invalidToken), 'INVALID_TOKEN'],
    ['a 503 maintenance page', behaviours.maintenance(1), 'MAINTENANCE'],
  ])('never asks again once bytes came back: %s is asked once', async (_name, fault, code) => {
    const { arrivals } = inTurn(fault, behaviours.moodle(moodleBodies.siteInfo));
    expect(failureOf(await siteOn().getSiteInfo()).code).toBe(code);
    expect(arrivals).toHaveLength(1);
  });

  it('never retries a timeout: the deadline is spent', async () => {
    const { arrivals } = inTurn(behaviours.neverAnswer(), behaviours.moodle(moodleBodies.siteInfo));
    const site = siteOn({ timeouts: { siteInfoMs: 300 } });
    expect(failureOf(await site.getSiteInfo()).code).toBe('TIMEOUT');
    expect(arrivals).toHaveLength(1);
  });

  it('waits at least the Retry-After of a 429 before asking again', async () => {
    const { arrivals } = inTurn(behaviours.tooManyRequests(1), behaviours.moodle(moodleBodies.siteInfo));
    const result = await siteOn().getSiteInfo();
    expect(result.ok).toBe(true);
    expect(arrivals).toHaveLength(2);
    const [first = 0, second = 0] = arrivals;
    expect(second - first).toBeGreaterThanOrEqual(990);
  });

  it('answers a 429 at once, Retry-After kept, when the wait asked for is longer than allowed', async () => {
    const { arrivals } = inTurn(behaviours.tooManyRequests(120), behaviours.moodle(moodleBodies.siteInfo));
    const failure = failureOf(await siteOn().getSiteInfo());
    expect(failure).toMatchObject({ code: 'MAINTENANCE', retryable: true, retryAfterSeconds: 120 });
    expect(failure.message).toMatch(/HTTP 429/);
    expect(arrivals).toHaveLength(1);
  });

  it('answers a 429 at once when the wait asked for does not fit in the deadline left', async () => {
    const { arrivals } = inTurn(behaviours.tooManyRequests(1), behaviours.moodle(moodleBodies.siteInfo));
    const site = siteOn({ timeouts: { siteInfoMs: 600 } });
    expect(failureOf(await site.getSiteInfo()).code).toBe('MAINTENANCE');
    expect(arrivals).toHaveLength(1);
  });

  it('never retries the zip call, even after a reset before any byte: each call builds a zip', async () => {
    const { arrivals } = inTurn(behaviours.hangUp(), behaviours.moodle(moodleBodies.privateFilesZip));
    expect(failureOf(await siteOn().createPrivateFilesZip('alice')).code).toBe('UNREACHABLE');
    expect(arrivals).toHaveLength(1);
  });

  it("stops waiting to retry when the caller's signal aborts", async () => {
    inTurn(behaviours.tooManyRequests(2));
    const controller = new AbortController();
    const reason = new Error('the GraphQL request went away');
    const pending = siteOn().getSiteInfo({ signal: controller.signal });
    setTimeout(() => controller.abort(reason), 200);
    const started = performance.now();
    await expect(pending).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(1_500);
  });
});

describe('the retry delay', () => {
  const policy = { retries: 3, baseDelayMs: 100, maxDelayMs: 300 };

  it('is a random part of an exponential backoff, capped', () => {
    expect(retryDelayMs({ ...policy, random: () => 0 }, 0, { kind: 'no-byte-received' }, 10_000)).toBe(0);
    const most = (retry: number) =>
      retryDelayMs({ ...policy, random: () => 1 }, retry, { kind: 'no-byte-received' }, 10_000);
    expect([most(0), most(1), most(2)]).toEqual([100, 200, 300]);
    const samples = Array.from({ length: 50 }, () =>
      retryDelayMs(policy, 1, { kind: 'no-byte-received' }, 10_000),
    );
    expect(new Set(samples).size).toBeGreaterThan(1);
    for (const sample of samples) expect(sample).toBeLessThanOrEqual(200);
  });

  it('is never shorter than the Retry-After the site asked for', () => {
    const delay = retryDelayMs(policy, 0, { kind: 'asked-to-retry', afterMs: 2_000 }, 10_000);
    expect(delay).toBeGreaterThanOrEqual(2_000);
    expect(delay).toBeLessThanOrEqual(2_100);
  });

  it('is none for a final outcome, when the retries are spent, or when no attempt fits the deadline left', () => {
    expect(retryDelayMs(policy, 0, { kind: 'final' }, 10_000)).toBeUndefined();
    expect(retryDelayMs(policy, 3, { kind: 'no-byte-received' }, 10_000)).toBeUndefined();
    expect(
      retryDelayMs({ ...policy, random: () => 1 }, 0, { kind: 'no-byte-received' }, 100 + MIN_ATTEMPT_MS - 1),
    ).toBeUndefined();
    expect(retryDelayMs(policy, 0, { kind: 'asked-to-retry', afterMs: 10_000 }, 60_000)).toBeUndefined();
  });
});
