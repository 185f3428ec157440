import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../src/moodle/agent.js';
import type { Result, SiteFailure, SiteFailureCode } from '../src/moodle/failures.js';
import { createRestClient, type RestClient } from '../src/moodle/rest-client.js';
import {
  type Behaviour,
  behaviours,
  closedPortUrl,
  type FaultInjector,
  moodleBodies,
  startFaultInjector,
} from './support/fault-injector.js';

const TOKEN = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';

let injector: FaultInjector;
let agent: Agent;
let client: RestClient;

beforeAll(async () => {
  injector = await startFaultInjector();
  agent = createAgent({ connectTimeoutMs: 2_000 });
  client = createRestClient({ dispatcher: agent, site: { id: 'peer', url: injector.url, token: TOKEN } });
});

afterAll(async () => {
  await injector.close();
  await agent.destroy();
});

function failureOf(result: Result<unknown>): SiteFailure {
  if (result.ok) {
    throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  }
  return result.failure;
}

const call = (options: { timeoutMs?: number; signal?: AbortSignal; maxResponseBytes?: number } = {}) =>
  client.call('core_webservice_get_site_info', {}, { timeoutMs: 2_000, ...options });

describe('a REST call', () => {
  it('posts the token, function and format in a form body, and nothing in the query string', async () => {
    injector.setBehaviour(behaviours.moodle(moodleBodies.siteInfo));
    const request = injector.nextRequest();
    await client.call(
      'core_user_get_users_by_field',
      { field: 'username', values: ['alice'] },
      { timeoutMs: 2_000 },
    );
    const received = await request;
    expect(received.method).toBe('POST');
    expect(received.path).toBe('/webservice/rest/server.php');
    expect(received.query).toEqual({});
    expect(received.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(received.form).toEqual({
      wstoken: TOKEN,
      wsfunction: 'core_user_get_users_by_field',
      moodlewsrestformat: 'json',
      field: 'username',
      'values[0]': 'alice',
    });
  });

  it('keeps the path of a site installed below the web root', async () => {
    const nested = createRestClient({
      dispatcher: agent,
      site: { id: 'nested', url: `${injector.url}/moodle/`, token: TOKEN },
    });
    injector.setBehaviour(behaviours.moodle('null'));
    const request = injector.nextRequest();
    await nested.call('enrol_manual_unenrol_users', {}, { timeoutMs: 2_000 });
    expect((await request).path).toBe('/moodle/webservice/rest/server.php');
  });

  it("returns the decoded JSON of a successful answer, even Moodle's literal null", async () => {
    injector.setBehaviour(behaviours.moodle(moodleBodies.privateFilesZip));
    expect(await call()).toEqual({ ok: true, value: JSON.parse(moodleBodies.privateFilesZip) });
    injector.setBehaviour(behaviours.moodle('null'));
    expect(await call()).toEqual({ ok: true, value: null });
  });

  it('refuses parameters that would override the token or the function', async () => {
    await expect(client.call('x', { wstoken: 'other' }, { timeoutMs: 1_000 })).rejects.toThrow(TypeError);
  });
});

const mapping: readonly [string, Behaviour, SiteFailureCode, RegExp][] = [
  ['invalidtoken', behaviours.moodle(moodleBodies.invalidToken), 'INVALID_TOKEN', /invalidtoken/],
  ['sitemaintenance', behaviours.moodle(moodleBodies.siteMaintenance), 'MAINTENANCE', /maintenance/],
  ['accessexception', behaviours.moodle(moodleBodies.accessException), 'ACCESS_DENIED', /accessexception/],
  [
    'nopermissions',
    behaviours.moodle(moodleBodies.noPermissions),
    'ACCESS_DENIED',
    /nopermissions.*capability/,
  ],
  ['requireloginerror', behaviours.moodle(moodleBodies.requireLogin), 'ACCESS_DENIED', /requireloginerror/],
  ['wsaccessusersuspended', behaviours.moodle(moodleBodies.userSuspended), 'ACCESS_DENIED', /suspended/],
  ['an empty HTTP 403', behaviours.webServicesDisabled(), 'ACCESS_DENIED', /web services are disabled/],
  [
    'invalidrecord on external_functions',
    behaviours.moodle(moodleBodies.functionNotFound),
    'FUNCTION_UNAVAILABLE',
    /core_webservice_get_site_info does not exist/,
  ],
  ['the English empty-area answer', behaviours.moodle(moodleBodies.noFilesEnglish), 'NO_FILES', /no files/],
  ['the French empty-area answer', behaviours.moodle(moodleBodies.noFilesFrench), 'NO_FILES', /no files/],
  [
    'invalidparameter',
    behaviours.moodle(moodleBodies.invalidParameter),
    'REMOTE_ERROR',
    /Invalid parameter value detected/,
  ],
  [
    'invalidrecord on another table',
    behaviours.moodle(moodleBodies.courseNotFound),
    'REMOTE_ERROR',
    /table course/,
  ],
  [
    'an unlisted errorcode',
    behaviours.moodle(moodleBodies.cannotAssignRole),
    'REMOTE_ERROR',
    /permission to assign this role/,
  ],
  ['an exception without errorcode', behaviours.moodle(moodleBodies.typeError), 'REMOTE_ERROR', /TypeError/],
  ['an HTML 500 page', behaviours.html(500), 'BAD_RESPONSE', /HTTP 500.*HTML/],
  ['an HTML page with status 200', behaviours.html(200), 'BAD_RESPONSE', /HTML page.*instead of JSON/],
  ['a body that is not JSON', behaviours.invalidJson(), 'BAD_RESPONSE', /not JSON/],
  ['truncated JSON', behaviours.truncatedJson(), 'BAD_RESPONSE', /truncated JSON/],
  ['an HTTP 404', behaviours.html(404), 'BAD_RESPONSE', /HTTP 404/],
  [
    'a redirect',
    { kind: 'answer', status: 301, headers: { Location: 'https://elsewhere.example/login/index.php?x=1' } },
    'BAD_RESPONSE',
    /redirecting to “https:\/\/elsewhere\.example\/login\/index\.php”: check the site URL/,
  ],
];

describe('the failure mapping', () => {
  it.each(mapping)('maps %s to %s', async (_situation, behaviour, code, message) => {
    injector.setBehaviour(behaviour);
    const failure = failureOf(await call());
    expect(failure.code).toBe(code);
    expect(failure.message).toMatch(message);
  });

  it('hands back JSON that is not a Moodle error for the caller to check', async () => {
    injector.setBehaviour(behaviours.moodle('{"error":true}'));
    expect(await call()).toEqual({ ok: true, value: { error: true } });
  });

  it("keeps Moodle's errorcode and the debug info for logs", async () => {
    injector.setBehaviour(behaviours.moodle(moodleBodies.invalidParameterWithDebug));
    const failure = failureOf(await call());
    expect(failure).toMatchObject({
      code: 'REMOTE_ERROR',
      remoteErrorCode: 'invalidparameter',
      retryable: false,
    });
    expect(failure.message).not.toContain('user with username not found');
    expect(failure.cause).toMatchObject({ debuginfo: 'user with username not found' });
  });

  it('maps an HTTP 503 to MAINTENANCE and keeps its Retry-After', async () => {
    injector.setBehaviour(behaviours.maintenance(300));
    expect(failureOf(await call())).toMatchObject({
      code: 'MAINTENANCE',
      retryable: true,
      retryAfterSeconds: 300,
    });
  });

  it('never puts the token in a message, even when the site echoes it', async () => {
    injector.setBehaviour(
      behaviours.moodle(
        `{"exception":"moodle_exception","errorcode":"x","message":"token ${TOKEN} refused"}`,
      ),
    );
    const failure = failureOf(await call());
    expect(failure.message).toContain('[redacted]');
    expect(failure.message).not.toContain(TOKEN);
  });
});

describe('deadlines and transport', () => {
  it('answers TIMEOUT near the deadline when the site never answers', async () => {
    injector.setBehaviour(behaviours.neverAnswer());
    const started = performance.now();
    const failure = failureOf(await call({ timeoutMs: 300 }));
    const elapsed = performance.now() - started;
    expect(failure).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(failure.message).toContain('300 ms');
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('answers TIMEOUT when the body stalls after the headers', async () => {
    injector.setBehaviour({
      kind: 'stall-after-headers',
      headers: { 'Content-Type': 'application/json' },
      body: '{"a"',
    });
    const started = performance.now();
    expect(failureOf(await call({ timeoutMs: 300 })).code).toBe('TIMEOUT');
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('answers UNREACHABLE for a port where nothing listens', async () => {
    const nowhere = createRestClient({
      dispatcher: agent,
      site: { id: 'gone', url: await closedPortUrl(), token: TOKEN },
    });
    const failure = failureOf(await nowhere.call('core_webservice_get_site_info', {}, { timeoutMs: 2_000 }));
    expect(failure).toMatchObject({ code: 'UNREACHABLE', retryable: true });
    expect(failure.message).toContain('ECONNREFUSED');
    expect(failure.cause).toBeInstanceOf(Error);
  });

  it('answers UNREACHABLE when the connection is reset mid-body', async () => {
    injector.setBehaviour({
      kind: 'reset-mid-body',
      headers: { 'Content-Type': 'application/json', 'Content-Length': '5000' },
      body: '{"sitename":',
    });
    expect(failureOf(await call()).code).toBe('UNREACHABLE');
  });

  it('answers BAD_RESPONSE for a body over the size cap, announced or not', async () => {
    injector.setBehaviour(behaviours.hugeJson(5 * 1024 * 1024));
    expect(failureOf(await call()).message).toContain(`larger than ${4 * 1024 * 1024} bytes`);
    injector.setBehaviour(behaviours.hugeJson(200_000, true));
    expect(failureOf(await call({ maxResponseBytes: 50_000 }))).toMatchObject({ code: 'BAD_RESPONSE' });
    injector.setBehaviour(behaviours.hugeJson(40_000, true));
    expect((await call({ maxResponseBytes: 50_000 })).ok).toBe(true);
  });

  it("rejects with the caller's own reason when the caller aborts, instead of a failure", async () => {
    injector.setBehaviour(behaviours.neverAnswer());
    const controller = new AbortController();
    const request = injector.nextRequest();
    const pending = call({ signal: controller.signal, timeoutMs: 5_000 });
    const received = await request;
    const reason = new Error('the GraphQL request went away');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(await received.closed).toEqual({ complete: false });
  });

  it('rejects at once when the signal is already aborted', async () => {
    const before = injector.requests.length;
    await expect(call({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(injector.requests.length).toBe(before);
  });
});
