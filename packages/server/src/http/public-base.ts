/**
 * The base (origin and path prefix) of the URLs an answer hands out. Tools that take a registry
 * field as a URL (update bots, lock-file tools, caching proxies) need absolute ones, so every URL
 * is built on this base:
 * - `server.externalUrl` when set: the one the operator of the registry chose;
 * - else the request: the scheme it arrived over and the `Host` it was sent to (the caller's own
 *   words, echoed only to itself: answers are `private`), and `X-Forwarded-Proto`, `-Host` and
 *   `-Prefix` only when the peer is a configured trusted proxy, never from anyone else.
 */
import { BlockList, isIP } from 'node:net';
import { InputError } from '@opendepot/sdk';
import type { Context } from 'koa';

/** Options of {@link publicBase}. */
export interface PublicBaseOptions {
  /** `server.externalUrl`. */
  externalUrl?: string;
  /** `server.trustedProxies`: IP addresses or CIDRs. */
  trustedProxies?: readonly string[];
}

/** The base of a request's URLs, without a trailing slash, e.g. `https://registry.example.com/prefix`. */
export type PublicBase = (ctx: Context) => string;

// A host[:port] as clients send it: a DNS name or IPv4 address, or a bracketed IPv6 address.
const HOST_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
// A path prefix of plain segments: no dot segments, no query, no encoded slashes.
const PREFIX_PATTERN = /^(?:\/[A-Za-z0-9_~!$&'()*+,;=:@-][A-Za-z0-9._~!$&'()*+,;=:@-]*)*\/?$/;

/** Builds the base function; throws naming the field when `trustedProxies` holds something else than addresses. */
export function publicBase(options: PublicBaseOptions): PublicBase {
  if (options.externalUrl !== undefined) {
    const fixed = options.externalUrl.replace(/\/+$/, '');
    return () => fixed;
  }
  const trusted = trustedPeers(options.trustedProxies ?? []);
  return (ctx) => {
    const fromProxy = trusted !== undefined && isTrusted(trusted, ctx.req.socket.remoteAddress);
    const forwarded = (name: string): string | undefined => (fromProxy ? firstValue(ctx.get(name)) : undefined);
    const encrypted = (ctx.req.socket as { encrypted?: boolean }).encrypted === true;
    const proto = forwarded('X-Forwarded-Proto')?.toLowerCase();
    const scheme = proto === 'https' || proto === 'http' ? proto : encrypted ? 'https' : 'http';
    const host = [forwarded('X-Forwarded-Host'), ctx.get('Host')].find((h) => h !== undefined && HOST_PATTERN.test(h)) ?? localHost(ctx);
    const prefix = forwarded('X-Forwarded-Prefix');
    return `${scheme}://${host}${prefix !== undefined && PREFIX_PATTERN.test(prefix) ? prefix.replace(/\/+$/, '') : ''}`;
  };
}

/** The first of a comma-separated header's values (proxies append theirs), trimmed; undefined when empty. */
function firstValue(header: string): string | undefined {
  const first = header.split(',')[0]?.trim();
  return first === undefined || first === '' ? undefined : first;
}

/** The address the request arrived at, for a request without a usable `Host` (HTTP/1.0). */
function localHost(ctx: Context): string {
  const { localAddress, localPort } = ctx.req.socket;
  const address = localAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
  return `${isIP(address) === 6 ? `[${address}]` : address}:${localPort ?? 80}`;
}

function trustedPeers(entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  entries.forEach((entry, i) => {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address);
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      throw new InputError(`server.trustedProxies[${i}] is not an IP address or CIDR: ${entry.slice(0, 100)}`, {
        field: `server.trustedProxies[${i}]`,
        hint: 'list the reverse proxies in front of the server, e.g. 10.0.0.0/8 or 192.168.1.10',
      });
    }
    list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  });
  return list;
}

function isTrusted(list: BlockList, peer: string | undefined): boolean {
  if (peer === undefined) return false;
  const v4 = peer.startsWith('::ffff:') && isIP(peer.slice(7)) === 4 ? peer.slice(7) : undefined;
  return v4 !== undefined ? list.check(v4, 'ipv4') : list.check(peer, isIP(peer) === 6 ? 'ipv6' : 'ipv4');
}
