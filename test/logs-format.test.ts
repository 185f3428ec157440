import { describe, expect, it } from 'vitest';
import { shouldPrettyPrint } from '../src/server/logger.js';

describe('log format', () => {
  it('is pretty on a terminal outside production, JSON otherwise', () => {
    expect(shouldPrettyPrint({}, true)).toBe(true);
    expect(shouldPrettyPrint({ NODE_ENV: 'production' }, true)).toBe(false);
    expect(shouldPrettyPrint({}, false)).toBe(false);
  });

  it('follows LOG_FORMAT when it is set', () => {
    expect(shouldPrettyPrint({ LOG_FORMAT: 'json' }, true)).toBe(false);
    expect(shouldPrettyPrint({ LOG_FORMAT: 'pretty', NODE_ENV: 'production' }, false)).toBe(true);
  });
});
