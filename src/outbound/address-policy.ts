import ipaddr from 'ipaddr.js';

/** What an address is, as far as an outbound call is concerned. */
export type AddressClass =
  'public' | 'loopback' | 'private' | 'link-local' | 'multicast' | 'unspecified' | 'reserved';

export interface AddressPolicy {
  allowLoopback: boolean;
  allowPrivate: boolean;
}

/**
 * True for any spelling ipaddr.js reads as an address: dotted quads, but also `0x7f000001`,
 * `2130706433`, `0177.0.0.1`, `127.1` (what inet_aton, and so a resolver, would accept), and
 * IPv6 with or without brackets.
 */
export function isIpLiteral(host: string): boolean {
  return ipaddr.isValid(unbracket(host));
}

/**
 * The class of an address in any spelling. IPv4-mapped IPv6 (`::ffff:127.0.0.1`) counts as the
 * IPv4 address it carries; every special-purpose range ipaddr.js knows that is not loopback or
 * private (broadcast, documentation, benchmarking, NAT64, 6to4, Teredo, IPv4-compatible `::/96`,
 * deprecated site-local…) counts as reserved, because each either reaches nothing or tunnels to
 * an IPv4 address this check would no longer see.
 */
export function classifyAddress(ip: string): AddressClass {
  let address = ipaddr.parse(unbracket(ip));
  if (address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress()) {
    address = address.toIPv4Address();
  }
  const range = address.range();
  switch (range) {
    case 'unicast':
      return address instanceof ipaddr.IPv6 && isIpv4Compatible(address) ? 'reserved' : 'public';
    case 'loopback':
      return 'loopback';
    case 'private':
    case 'carrierGradeNat':
    case 'uniqueLocal':
      return 'private';
    case 'linkLocal':
      return 'link-local';
    case 'multicast':
      return 'multicast';
    case 'unspecified':
      return 'unspecified';
    default:
      return 'reserved';
  }
}

/**
 * Why an outbound call may not go to this address, or undefined when it may. Link-local (the
 * cloud metadata service at 169.254.169.254 among them), multicast, unspecified and reserved
 * addresses are refused whatever the configuration.
 */
export function addressProblem(ip: string, policy: AddressPolicy): string | undefined {
  if (!isIpLiteral(ip)) return `${ip} is not an IP address`;
  const kind = classifyAddress(ip);
  if (kind === 'public') return undefined;
  if (kind === 'loopback' && policy.allowLoopback) return undefined;
  if (kind === 'private' && policy.allowPrivate) return undefined;
  return `${ipaddr.process(unbracket(ip)).toString()} is a ${kind} address`;
}

/** ::/96 without the loopback and unspecified addresses: IPv4-compatible IPv6, deprecated. */
function isIpv4Compatible(address: ipaddr.IPv6): boolean {
  return address.parts.slice(0, 6).every((part) => part === 0);
}

/** An IPv6 host as URLs write it (`[::1]`) without its brackets. */
export function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
