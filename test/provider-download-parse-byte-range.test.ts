import { describe, expect, it } from 'vitest';
import { ifRangeMatches, parseByteRange } from '../src/provider/rest/parse-byte-range.js';

describe('parseByteRange', () => {
  it('reads closed, open and suffix ranges, clamped to the size', () => {
    expect(parseByteRange('bytes=0-9', 100)).toEqual({ kind: 'partial', start: 0, end: 9 });
    expect(parseByteRange('bytes=90-', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(parseByteRange('bytes=90-1000', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(parseByteRange('bytes=-10', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(parseByteRange('bytes=-1000', 100)).toEqual({ kind: 'partial', start: 0, end: 99 });
  });

  it('calls a range starting at or past the end unsatisfiable', () => {
    expect(parseByteRange('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseByteRange('bytes=100-200', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseByteRange('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
  });

  it('serves the whole file for no range, a malformed one, several, or another unit', () => {
    for (const header of [undefined, 'bytes=', 'bytes=9-3', 'bytes=0-1,4-5', 'items=0-1', 'bytes=a-b']) {
      expect(parseByteRange(header, 100), String(header)).toEqual({ kind: 'full' });
    }
  });
});

describe('ifRangeMatches', () => {
  const validators = { etag: '"abc"', lastModified: 'Sat, 21 Nov 2026 23:21:10 GMT' };

  it('keeps the range when If-Range is absent or names this version', () => {
    expect(ifRangeMatches(undefined, validators)).toBe(true);
    expect(ifRangeMatches('"abc"', validators)).toBe(true);
    expect(ifRangeMatches('Sat, 21 Nov 2026 23:21:10 GMT', validators)).toBe(true);
  });

  it('drops the range for another version or a weak validator', () => {
    expect(ifRangeMatches('"abd"', validators)).toBe(false);
    expect(ifRangeMatches('W/"abc"', validators)).toBe(false);
    expect(ifRangeMatches('Sun, 22 Nov 2026 00:00:00 GMT', validators)).toBe(false);
  });
});
