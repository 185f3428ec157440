/** What to send for a `Range` header against a representation of `size` bytes. */
export type ByteRangeDecision =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

const FULL: ByteRangeDecision = { kind: 'full' };

/**
 * Reads a single `bytes=` range (`a-b`, `a-`, `-n`) as RFC 9110 defines it. A header that is absent,
 * malformed, in another unit or asks for several ranges is answered with the whole file, which the
 * RFC allows and every resuming client handles; only a well-formed range that starts past the end
 * is unsatisfiable (416).
 */
export function parseByteRange(header: string | undefined, size: number): ByteRangeDecision {
  if (header === undefined) return FULL;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return FULL;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return FULL;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Number(last);
  if (last !== '' && end < start) return FULL;
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}

/**
 * `If-Range`: the range applies only if the validator still names this representation; otherwise
 * the client's partial copy is stale and must get the whole file.
 */
export function ifRangeMatches(
  ifRange: string | undefined,
  validators: { readonly etag: string; readonly lastModified: string },
): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === validators.etag;
  return value === validators.lastModified;
}
