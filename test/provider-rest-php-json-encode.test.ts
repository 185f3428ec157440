import { describe, expect, it } from 'vitest';
import { phpJsonEncode } from '../src/provider/rest/php-json-encode.js';

describe('phpJsonEncode', () => {
  it('escapes slashes as PHP json_encode does', () => {
    expect(phpJsonEncode({ siteurl: 'http://127.0.0.1:8081/moodle' })).toBe(
      '{"siteurl":"http:\\/\\/127.0.0.1:8081\\/moodle"}',
    );
  });

  it('escapes every non-ASCII character as a lower-case \\u sequence, astral ones as surrogate pairs', () => {
    expect(phpJsonEncode('privée ✓ 😀')).toBe('"priv\\u00e9e \\u2713 \\ud83d\\ude00"');
  });

  it('escapes backslashes, quotes and control characters, and leaves HTML characters alone', () => {
    expect(phpJsonEncode('core\\exception "a"\n<b>&\'')).toBe('"core\\\\exception \\"a\\"\\n<b>&\'"');
  });

  it('keeps key order, leaves undefined members out, and writes booleans, null and empty lists', () => {
    expect(phpJsonEncode({ b: true, a: null, skipped: undefined, list: [], n: 0 })).toBe(
      '{"b":true,"a":null,"list":[],"n":0}',
    );
  });

  it('writes a missing value as null, as json_encode(null) does', () => {
    expect(phpJsonEncode(undefined)).toBe('null');
  });
});
