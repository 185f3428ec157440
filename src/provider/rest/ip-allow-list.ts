import { BlockList, isIP } from 'node:net';

/** Whether an address belongs to a list of addresses and CIDR ranges. */
export type IpMatcher = (address: string) => boolean;

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) → `10.0.0.1`. */
export function normaliseAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? address;
}

function family(address: string): 'ipv4' | 'ipv6' | null {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : null;
}

/**
 * Builds a matcher for entries such as `192.168.1.7`, `10.0.0.0/8`, `2001:db8::/32`, or Moodle's
 * `192.168.1.1-20` (a range of the last byte). Entries that parse as none of these match nothing,
 * so a typo never opens a token to the world.
 */
export function createIpMatcher(entries: readonly string[]): IpMatcher {
  const list = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr) {
      const [, network = '', prefix = ''] = cidr;
      const type = family(network);
      const bits = Number(prefix);
      if (type && bits <= (type === 'ipv4' ? 32 : 128)) list.addSubnet(network, bits, type);
      continue;
    }
    const lastByteRange = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.)(\d{1,3})-(\d{1,3})$/.exec(entry);
    if (lastByteRange) {
      const [, head = '', from = '', to = ''] = lastByteRange;
      const start = `${head}${from}`;
      const end = `${head}${to}`;
      if (family(start) === 'ipv4' && family(end) === 'ipv4' && Number(from) <= Number(to)) {
        list.addRange(start, end, 'ipv4');
      }
      continue;
    }
    const address = normaliseAddress(entry);
    const type = family(address);
    if (type) list.addAddress(address, type);
  }
  return (address) => {
    const candidate = normaliseAddress(address);
    const type = family(candidate);
    return type !== null && list.check(candidate, type);
  };
}
