import type { FastifyRequest } from 'fastify';
import { createIpMatcher, normaliseAddress } from './ip-allow-list.js';

/** Finds the address of the client that made a request. */
export type ClientIpResolver = (request: FastifyRequest) => string;

/**
 * The socket's peer address, unless that peer is a trusted proxy: then `X-Forwarded-For` is read
 * from the right, skipping trusted proxies, and the first untrusted hop is the client. Reading the
 * header without such a list would let any caller pick the address an IP restriction checks.
 * @param trustedProxies addresses and CIDR ranges of the reverse proxies in front of the provider
 */
export function createClientIpResolver(trustedProxies: readonly string[] = []): ClientIpResolver {
  const isTrusted = createIpMatcher(trustedProxies);
  return (request) => {
    const peer = normaliseAddress(request.raw.socket.remoteAddress ?? '');
    if (trustedProxies.length === 0 || !isTrusted(peer)) return peer;
    const header = request.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((hop) => normaliseAddress(hop.trim()))
      .filter((hop) => hop !== '');
    for (let index = hops.length - 1; index >= 0; index -= 1) {
      const hop = hops[index] as string;
      if (!isTrusted(hop)) return hop;
    }
    return hops[0] ?? peer;
  };
}
