import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import ipaddr from 'ipaddr.js';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { outboundConfig } from '../config/outbound.config';
import { addressProblem, isIpLiteral, unbracket } from './address-policy';
import { hostAllowed } from './host-allowlist';
import { OutboundRefusedError, OutboundRequestError } from './outbound.errors';

export type HostResolver = (host: string) => Promise<LookupAddress[]>;

/** The resolver the guard asks; tests provide one that maps names to the addresses they need. */
export const OUTBOUND_RESOLVER = Symbol('OUTBOUND_RESOLVER');

export const systemResolver: HostResolver = (host) =>
  dnsLookup(host, { all: true, verbatim: true });

/** `net.connect`'s `lookup` option (with `all`, as Node's happy-eyeballs connect asks). */
export type GuardedLookup = (
  hostname: string,
  options: LookupOptions,
  callback: (
    error: NodeJS.ErrnoException | null,
    address: string | LookupAddress[],
    family?: number,
  ) => void,
) => void;

/**
 * Decides where Custos may call out to (DESIGN.md §4 invariant 8): https only (http by explicit
 * config), the optional host allowlist, and every address a host resolves to checked against
 * loopback, private, link-local, multicast and the other special ranges. The checks work on
 * parsed addresses, never on the spelling of the URL, and `lookup` lets a connection use only the
 * addresses it checked, so a name cannot resolve to a harmless address for the check and to an
 * internal one for the connection (DNS rebinding).
 */
@Injectable()
export class OutboundGuard {
  constructor(
    @Inject(outboundConfig.KEY) private readonly config: ConfigType<typeof outboundConfig>,
    @Inject(OUTBOUND_RESOLVER) private readonly resolver: HostResolver,
  ) {}

  /**
   * The URL, parsed, if its scheme, credentials and host pass the checks that need no DNS: a URL
   * a person gives is refused at once when it names a forbidden address literally. The WHATWG
   * parser already reads `0x7f000001`, `2130706433` and `0177.0.0.1` as 127.0.0.1.
   */
  checkUrl(input: string | URL): URL {
    let url: URL;
    try {
      url = typeof input === 'string' ? new URL(input) : input;
    } catch {
      throw new OutboundRefusedError('not an absolute URL');
    }
    const allowed = this.config.allowHttp ? ['https:', 'http:'] : ['https:'];
    if (!allowed.includes(url.protocol)) {
      throw new OutboundRefusedError(
        `the ${url.protocol.replace(/:$/, '')} scheme is not allowed (${allowed.map((s) => s.slice(0, -1)).join(' or ')} only)`,
      );
    }
    if (url.username || url.password) {
      throw new OutboundRefusedError('a user name or password in the URL is not accepted');
    }
    this.checkHostName(unbracket(url.hostname));
    return url;
  }

  /** Throws unless an outbound call may go to this address (any spelling). */
  assertAllowed(ip: string): void {
    const problem = addressProblem(ip, this.config);
    if (problem) throw new OutboundRefusedError(problem);
  }

  /**
   * The addresses of a host, each one allowed; throws when the host is not on the allowlist or
   * any of its addresses is forbidden (a name with one internal address among public ones is
   * refused whole: the connection could pick either).
   */
  async resolveChecked(host: string): Promise<string[]> {
    const name = unbracket(host);
    this.checkHostName(name);
    if (isIpLiteral(name)) return [ipaddr.process(name).toString()];
    let found: LookupAddress[];
    try {
      found = await this.resolver(name);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new OutboundRequestError(`cannot resolve ${name} (${code})`);
    }
    if (found.length === 0) throw new OutboundRequestError(`${name} has no address`);
    for (const { address } of found) {
      const problem = addressProblem(address, this.config);
      if (problem) throw new OutboundRefusedError(`${name} resolves to ${problem}`);
    }
    return found.map(({ address }) => address);
  }

  /** For `net.connect` / `tls.connect`: resolves through resolveChecked, so only checked addresses are dialled. */
  readonly lookup: GuardedLookup = (hostname, options, callback) => {
    this.resolveChecked(hostname).then(
      (addresses) => {
        const all = addresses
          .map((address) => ({ address, family: ipaddr.parse(address).kind() === 'ipv6' ? 6 : 4 }))
          .filter(({ family }) => !options.family || options.family === family);
        if (all.length === 0) {
          callback(new OutboundRequestError(`${hostname} has no IPv${options.family} address`), '');
        } else if (options.all) callback(null, all);
        else callback(null, all[0].address, all[0].family);
      },
      (error: Error) => callback(error, ''),
    );
  };

  /** The allowlist, and the address of a literal host or a name reserved for loopback. */
  private checkHostName(name: string): void {
    if (!hostAllowed(name, this.config.hosts)) {
      throw new OutboundRefusedError(`${name} is not in CUSTOS_OUTBOUND_HOSTS`);
    }
    if (isIpLiteral(name)) this.assertAllowed(name);
    else if (isLoopbackName(name) && !this.config.allowLoopback) {
      throw new OutboundRefusedError(`${name} is a loopback name`);
    }
  }
}

/** `localhost` and names under `.localhost` always mean this machine (RFC 6761). */
function isLoopbackName(name: string): boolean {
  const lower = name.toLowerCase().replace(/\.$/, '');
  return lower === 'localhost' || lower.endsWith('.localhost');
}
