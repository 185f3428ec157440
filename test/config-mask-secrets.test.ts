import { describe, expect, it } from 'vitest';
import { gatewayConfigSchema } from '../src/config/config-schema.js';
import { MASK, maskSecrets } from '../src/config/mask-secrets.js';

describe('maskSecrets', () => {
  it('masks tokens, secrets and passwords wherever they sit, keeping everything else', () => {
    const config = gatewayConfigSchema.parse({
      sites: [{ id: 'a', url: 'https://a.example', token: 'site-token-value' }],
      downloadLinks: { secret: 'l'.repeat(40) },
    });
    const masked = maskSecrets(config);
    expect(masked.sites[0]).toMatchObject({ id: 'a', url: 'https://a.example', token: MASK });
    expect(masked.downloadLinks).toEqual({ secret: MASK, ttlSeconds: 300 });
    expect(masked.server).toEqual(config.server);
    expect(JSON.stringify(masked)).not.toContain('site-token-value');
    expect(config.sites[0]?.token).toBe('site-token-value');
  });

  it('masks every string held under a secret key, leaves numbers, and shows an empty secret as empty', () => {
    expect(
      maskSecrets({
        apiKeys: [{ key: 'k1', role: 'admin' }],
        nested: { clientSecret: 's', password: '', maxTokens: 2000, privateKey: ['a', 'b'] },
      }),
    ).toEqual({
      apiKeys: [{ key: MASK, role: 'admin' }],
      nested: { clientSecret: MASK, password: '', maxTokens: 2000, privateKey: [MASK, MASK] },
    });
  });
});
