import { describe, expect, it } from 'vitest';
import { SITE_FAILURE_CODES } from '../src/moodle/failures.js';
import {
  MOODLE_FAILURE_MAPPING,
  mapTransportError,
  parseRestAnswer,
  parseRetryAfter,
} from '../src/moodle/parse-moodle-response.js';
import { moodleBodies } from './support/fault-injector.js';

const json = { 'content-type': 'application/json' };

describe('the failure mapping table', () => {
  it('names every code a site can cause (the circuit is the gateway’s own)', () => {
    const mapped = new Set(MOODLE_FAILURE_MAPPING.map((row) => row.code));
    expect([...SITE_FAILURE_CODES].filter((code) => !mapped.has(code))).toEqual(['CIRCUIT_OPEN']);
  });
});

describe('parseRestAnswer', () => {
  it('strips a byte-order mark that a broken config.php puts before every answer', () => {
    expect(
      parseRestAnswer({ status: 200, headers: json, body: `\uFEFF${moodleBodies.privateFilesZip}` }).ok,
    ).toBe(true);
  });

  it('reads a Moodle error even when it comes with another status', () => {
    const result = parseRestAnswer({ status: 500, headers: json, body: moodleBodies.invalidToken });
    expect(result).toMatchObject({ ok: false, failure: { code: 'INVALID_TOKEN' } });
  });

  it('maps a 403 with a page to ACCESS_DENIED, naming the status', () => {
    const result = parseRestAnswer({
      status: 403,
      headers: { 'content-type': 'text/html' },
      body: '<html></html>',
    });
    expect(result).toMatchObject({ ok: false, failure: { code: 'ACCESS_DENIED' } });
    expect(!result.ok && result.failure.message).toContain('HTTP 403');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-21T23:00:00Z');
    expect(parseRetryAfter('300', now)).toBe(300);
    expect(parseRetryAfter('Sat, 21 Nov 2026 23:02:00 GMT', now)).toBe(120);
    expect(parseRetryAfter('Sat, 21 Nov 2026 22:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('mapTransportError', () => {
  it.each([
    ['ENOTFOUND', 'UNREACHABLE'],
    ['ECONNRESET', 'UNREACHABLE'],
    ['UND_ERR_SOCKET', 'UNREACHABLE'],
    ['UND_ERR_CONNECT_TIMEOUT', 'UNREACHABLE'],
    ['UND_ERR_HEADERS_TIMEOUT', 'TIMEOUT'],
    ['UND_ERR_BODY_TIMEOUT', 'TIMEOUT'],
    ['HPE_INVALID_CONSTANT', 'BAD_RESPONSE'],
  ])('maps %s to %s', (code, expected) => {
    const error = Object.assign(new Error('boom'), { code });
    expect(mapTransportError(error).code).toBe(expected);
    expect(mapTransportError(new TypeError('fetch failed', { cause: error })).code).toBe(expected);
  });
});
