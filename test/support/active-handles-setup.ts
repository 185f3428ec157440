import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll } from 'vitest';

/**
 * Runs around every test file (Vitest `setupFiles`): when the file's own hooks are done, nothing it
 * started may still keep the process alive — no socket, server, timer or child process. Only
 * resources that hold the event loop count (`process.getActiveResourcesInfo()`; an unref'd timer
 * does not), compared with what the worker held before the file ran.
 *
 * Closing is often asynchronous (a socket's close event, a child's exit), so the check waits up to
 * `SETTLE_MS` for the count to come back down before it fails: a leak stays, a slow close does not.
 */

const SETTLE_MS = 3_000;
const POLL_MS = 50;

/**
 * Resource kinds a test can leak. Not `PipeWrap`: the worker's own stdout and stderr show up as
 * pipes once written to; a leaked child process shows as `ProcessWrap`. File-system and DNS requests
 * in flight end on their own.
 */
const WATCHED = new Set(['TCPSocketWrap', 'TCPServerWrap', 'Timeout', 'ProcessWrap', 'UDPWrap']);

function census(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (WATCHED.has(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

function excess(baseline: Map<string, number>): string[] {
  return [...census()]
    .filter(([kind, count]) => count > (baseline.get(kind) ?? 0))
    .map(([kind, count]) => `${count - (baseline.get(kind) ?? 0)} × ${kind}`);
}

// Taken as the file starts, before any hook runs: Vitest's own short-lived timers (a hook's timeout,
// the flush of captured console output) come and go later, and would hide a leak in the baseline.
const baseline = census();

afterAll(async () => {
  const until = performance.now() + SETTLE_MS;
  let left = excess(baseline);
  while (left.length > 0 && performance.now() < until) {
    await sleep(POLL_MS);
    left = excess(baseline);
  }
  if (left.length > 0) {
    throw new Error(
      `this test file left resources that keep the process alive: ${left.join(', ')}. ` +
        'Close every server, client, agent, timer and child process it started (in afterAll/afterEach).',
    );
  }
});
