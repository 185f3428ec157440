import type { FastifyRequest } from 'fastify';

function lastString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const last: unknown = value[value.length - 1];
    return typeof last === 'string' ? last : undefined;
  }
  return undefined;
}

function flatten(source: unknown, into: Record<string, string>): void {
  if (source === null || typeof source !== 'object') return;
  for (const [key, value] of Object.entries(source)) {
    const text = lastString(value);
    if (text !== undefined) into[key] = text;
  }
}

/**
 * The request's fields as PHP sees them through `array_merge($_GET, $_POST)`: the query string,
 * then the form body overriding it; a repeated field keeps its last value.
 */
export function requestParams(request: FastifyRequest): Record<string, string> {
  const params: Record<string, string> = Object.create(null);
  flatten(request.query, params);
  flatten(request.body, params);
  return params;
}
