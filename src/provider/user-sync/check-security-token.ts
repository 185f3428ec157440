import { timingSafeEqual } from 'node:crypto';
import { createIpMatcher } from '../rest/ip-allow-list.js';
import type { ProviderStore } from '../store/repository.js';
import type { SecurityToken } from '../store/user-sync-repository.js';
import { hashToken } from '../token-generator.js';

export type SecurityCheckResult =
  | { readonly ok: true; readonly securityToken: SecurityToken }
  | {
      readonly ok: false;
      /** For logs only; the caller is told `Access Denied` whatever the reason. */
      readonly reason: 'missing' | 'unknown-client' | 'wrong-token' | 'ip-not-allowed';
    };

export interface SecurityTokenCheck {
  check(client: unknown, token: unknown, ip: string): Promise<SecurityCheckResult>;
}

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The endpoint's security: the triple client name + token + caller address must match one security token. */
export function createSecurityTokenCheck(store: Pick<ProviderStore, 'securityTokens'>): SecurityTokenCheck {
  return {
    async check(client, token, ip) {
      if (typeof client !== 'string' || typeof token !== 'string' || client === '' || token === '') {
        return { ok: false, reason: 'missing' };
      }
      const securityToken = await store.securityTokens.getByClientName(client);
      // Hashing even for an unknown client keeps the answer's timing from telling client names apart.
      const presented = hashToken(token);
      if (!securityToken) return { ok: false, reason: 'unknown-client' };
      if (!sameHash(securityToken.tokenHash, presented)) return { ok: false, reason: 'wrong-token' };
      if (!createIpMatcher([securityToken.ipAddress])(ip)) return { ok: false, reason: 'ip-not-allowed' };
      await store.securityTokens.touch(securityToken.id);
      return { ok: true, securityToken };
    },
  };
}
