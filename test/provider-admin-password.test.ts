import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../src/provider/password.js';

describe('password hashing', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('s3cret-passphrase');
    expect(hash).toMatch(/^scrypt\$/);
    expect(hash).not.toContain('s3cret');
    expect(await verifyPassword('s3cret-passphrase', hash)).toBe(true);
    expect(await verifyPassword('s3cret-passphrasE', hash)).toBe(false);
  });

  it('salts each hash', async () => {
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });

  it('answers false, never throws, for a malformed stored hash', async () => {
    expect(await verifyPassword('x', 'not a hash')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$0$8$1$AAAA$BBBB')).toBe(false);
    const valid = await hashPassword('x');
    expect(await verifyPassword('x', valid.replace(/^scrypt\$\d+/, 'scrypt$1000'))).toBe(false);
  });
});
