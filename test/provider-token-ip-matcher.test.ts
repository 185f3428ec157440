import { describe, expect, it } from 'vitest';
import { createIpMatcher } from '../src/provider/rest/ip-allow-list.js';

describe('createIpMatcher', () => {
  it('matches single addresses and CIDR ranges, IPv4 and IPv6', () => {
    const matches = createIpMatcher(['192.0.2.7', '10.0.0.0/8', '2001:db8::/32']);
    expect(matches('192.0.2.7')).toBe(true);
    expect(matches('192.0.2.8')).toBe(false);
    expect(matches('10.200.3.4')).toBe(true);
    expect(matches('11.0.0.1')).toBe(false);
    expect(matches('2001:db8::1')).toBe(true);
    expect(matches('2001:db9::1')).toBe(false);
  });

  it('treats an IPv4 client on a dual-stack socket as its IPv4 address', () => {
    expect(createIpMatcher(['127.0.0.0/8'])('::ffff:127.0.0.1')).toBe(true);
  });

  it('understands Moodle’s last-byte ranges', () => {
    const matches = createIpMatcher(['192.168.1.1-20']);
    expect(matches('192.168.1.20')).toBe(true);
    expect(matches('192.168.1.21')).toBe(false);
  });

  it('lets a malformed entry match nothing rather than everything', () => {
    const matches = createIpMatcher(['not-an-address', '10.0.0.0/99', '']);
    expect(matches('10.0.0.1')).toBe(false);
    expect(matches('127.0.0.1')).toBe(false);
  });

  it('refuses a caller whose address is not an IP address', () => {
    expect(createIpMatcher(['0.0.0.0/0'])('')).toBe(false);
  });
});
