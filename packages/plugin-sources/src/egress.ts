/**
 * Egress policy of the archive sources: which hosts an upstream request may go to, and which
 * addresses it may connect to. Every hop is checked: the first request, every redirect, and every
 * URL an upstream hands back. The address check runs in the connection itself (a connect hook on
 * the HTTP agent resolves the name once, checks every address and connects to the checked one),
 * so a name that resolves to a public address for a pre-check and to 127.0.0.1 for the connection
 * (DNS rebinding) cannot get through.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { InputError, isOpenDepotError, type OpenDepotError } from '@opendepot/sdk';
import { Agent, buildConnector, fetch as undiciFetch, type Dispatcher } from 'undici';
import { hostMatches } from './git-remote.ts';
import { redactUrl } from './subject.ts';

/** The `operator.egress` configuration. */
export interface EgressOptions {
  /** Connect to private, loopback, link-local and other non-public addresses. Default false. */
  allowPrivateNetworks?: boolean;
  /** Non-public ranges that are allowed anyway, e.g. `10.20.0.0/16` for an internal git server, `127.0.0.0/8` for local stand-ins. */
  allowedPrivateCidrs?: readonly string[];
  /** Resolves a host name to its addresses (tests give their own; default: the system resolver). */
  lookup?: (host: string) => Promise<Array<{ address: string; family: number }>>;
}

/** A host allowlist and the configuration key it comes from (for messages); `hosts` unset allows any host. */
export interface HostAllowlist {
  key: string;
  hosts: readonly string[] | undefined;
}

/** What a guarded request may reach, and how to name a refusal. */
export interface HostRule {
  /** A host passes when any list allows it (an unset list allows every host). */
  allowlists: readonly HostAllowlist[];
  /** Hosts that are always allowed (e.g. the configured API's own host). */
  alsoAllowed?: readonly string[];
  /** The resource field that named the URL, for the refusal. */
  field?: string;
}

export const EGRESS_CONFIG = 'operator.egress';
const PRIVATE_HINT = `allow it in the operator's configuration with ${EGRESS_CONFIG}.allowedPrivateCidrs (e.g. [10.0.0.0/8]) or ${EGRESS_CONFIG}.allowPrivateNetworks: true`;

/** Non-public ranges, each with the name shown in a refusal. */
const NON_PUBLIC: ReadonlyArray<[string, number, 'ipv4' | 'ipv6', string]> = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'ipv4', 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'ipv4', 'carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata services live here)'],
  ['172.16.0.0', 12, 'ipv4', 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'ipv4', 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['64:ff9b:1::', 48, 'ipv6', 'local-use NAT64'],
  ['100::', 64, 'ipv6', 'discard-only'],
  ['fc00::', 7, 'ipv6', 'unique local (ULA)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

/** One BlockList per non-public range, so a refusal can name the range. */
const NON_PUBLIC_LISTS = NON_PUBLIC.map(([net, prefix, family, name]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return { list, family, name };
});

/** Parses `a.b.c.d/n` or `x::/n`; throws an InputError naming the configuration key. */
export function parseCidr(cidr: string, key = `${EGRESS_CONFIG}.allowedPrivateCidrs`): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(cidr.trim());
  const family = match ? isIP(match[1] ?? '') : 0;
  const prefix = Number(match?.[2]);
  if (!match || family === 0 || prefix > (family === 4 ? 32 : 128)) {
    throw new InputError(`${key}: "${cidr}" is not a CIDR range such as 10.0.0.0/8 or fd00::/8`, { field: key });
  }
  return { address: match[1] ?? '', prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

/** The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) IPv6 address, else the address itself. */
function unmapped(address: string): string {
  const lower = address.toLowerCase();
  for (const prefix of ['::ffff:', '64:ff9b::']) {
    if (!lower.startsWith(prefix)) continue;
    const rest = lower.slice(prefix.length);
    if (isIP(rest) === 4) return rest;
    const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(rest);
    if (hex) {
      const hi = parseInt(hex[1] ?? '0', 16);
      const lo = parseInt(hex[2] ?? '0', 16);
      return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
    }
  }
  return address;
}

/** The egress checks of one operator: addresses (in the connection) and hosts (per hop). */
export class Egress {
  readonly #allowAll: boolean;
  readonly #allowed = new BlockList();
  readonly #lookup: NonNullable<EgressOptions['lookup']>;
  #agent: Agent | undefined;

  constructor(options: EgressOptions = {}) {
    this.#allowAll = options.allowPrivateNetworks === true;
    for (const cidr of options.allowedPrivateCidrs ?? []) {
      const { address, prefix, family } = parseCidr(cidr);
      this.#allowed.addSubnet(address, prefix, family);
    }
    this.#lookup = options.lookup ?? ((host) => dnsLookup(host, { all: true, verbatim: true }));
  }

  /** Why `address` may not be connected to (the kind of range), or undefined when it may. */
  refusal(address: string): string | undefined {
    if (this.#allowAll) return undefined;
    const ip = unmapped(address.replace(/^\[|\]$/g, ''));
    const family = isIP(ip) === 4 ? 'ipv4' : 'ipv6';
    if (isIP(ip) === 0) return 'not an IP address';
    if (this.#allowed.check(ip, family)) return undefined;
    return NON_PUBLIC_LISTS.find((range) => range.family === family && range.list.check(ip, family))?.name;
  }

  /**
   * Resolves `host` and checks every address it has; returns the addresses to connect to.
   * `field` names the resource field the host came from.
   */
  async resolve(host: string, field?: string): Promise<Array<{ address: string; family: number }>> {
    const bare = host.replace(/^\[|\]$/g, '');
    let addresses: Array<{ address: string; family: number }>;
    if (isIP(bare) !== 0) {
      addresses = [{ address: bare, family: isIP(bare) }];
    } else {
      try {
        addresses = await this.#lookup(bare);
      } catch (err) {
        // Not a policy decision: the name may resolve later. The caller maps it like any network failure.
        throw Object.assign(new Error(`could not resolve host ${bare}: ${(err as Error).message}`, { cause: err }), { code: (err as { code?: unknown }).code ?? 'ENOTFOUND' });
      }
      if (addresses.length === 0) throw Object.assign(new Error(`host ${bare} has no address`), { code: 'ENOTFOUND' });
    }
    for (const { address } of addresses) {
      const why = this.refusal(address);
      if (why !== undefined) {
        const shown = address === bare ? bare : `${bare} (${address})`;
        throw new InputError(`connecting to ${shown} is refused: it is a ${why} address, and the operator reaches only public addresses unless allowed`, {
          ...(field ? { field } : {}),
          hint: PRIVATE_HINT,
        });
      }
    }
    return addresses;
  }

  /** The HTTP agent whose every connection goes to a checked address of the host. */
  get dispatcher(): Dispatcher {
    if (!this.#agent) {
      const connect = buildConnector({});
      this.#agent = new Agent({
        connect: (options, callback) => {
          this.resolve(options.hostname).then(
            (addresses) => {
              const first = addresses[0]!;
              // TLS still verifies the certificate against the name (servername), not the address.
              const servername = isIP(options.hostname) === 0 ? options.hostname : options.servername;
              connect({ ...options, hostname: first.address, ...(servername ? { servername } : {}) }, callback);
            },
            (err: Error) => callback(err, null),
          );
        },
      });
    }
    return this.#agent;
  }

  /**
   * A fetch that follows redirects itself: each hop's scheme and host are checked by `checkHop`
   * (the first included) and its address by the connect hook. Credentials are dropped when a
   * redirect leaves the origin, as fetch does.
   */
  fetch(checkHop: (url: URL, redirectedFrom: URL | undefined) => void, field?: string): typeof fetch {
    return (async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
      let url = new URL(typeof input === 'string' || input instanceof URL ? input.toString() : input.url);
      let method = (init.method ?? 'GET').toUpperCase();
      let body = init.body ?? undefined;
      const headers = new Headers(init.headers);
      const mode = init.redirect ?? 'follow';
      for (let hop = 0, from: URL | undefined; ; hop++) {
        checkHop(url, from);
        let response: Response;
        try {
          response = (await undiciFetch(url, {
            ...(init as object),
            method,
            headers: [...headers] as Array<[string, string]>,
            body: body as never,
            redirect: 'manual',
            dispatcher: this.dispatcher,
          })) as unknown as Response;
        } catch (err) {
          const refused = policyCause(err);
          if (refused === undefined) throw err;
          throw new InputError(`${redactUrl(url.toString())}: ${refused.message}`, { cause: refused, ...(field ? { field } : {}), ...(refused.hint ? { hint: refused.hint } : {}) });
        }
        const location = response.headers.get('location');
        if (![301, 302, 303, 307, 308].includes(response.status) || location === null || mode === 'manual') return withUrl(response, url);
        await response.body?.cancel().catch(() => undefined);
        if (mode === 'error') throw new TypeError(`${redactUrl(url.toString())} redirected, and redirects are not allowed here`);
        if (hop >= 20) throw new TypeError(`too many redirects from ${redactUrl(url.toString())}`);
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          throw new TypeError(`${redactUrl(url.toString())} redirected to an invalid URL`);
        }
        if (next.origin !== url.origin) for (const name of ['authorization', 'cookie', 'proxy-authorization']) headers.delete(name);
        if (response.status === 303 ? method !== 'HEAD' : [301, 302].includes(response.status) && method === 'POST') {
          method = 'GET';
          body = undefined;
          for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) headers.delete(name);
        } else if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
          throw new TypeError(`${redactUrl(url.toString())} redirected a request whose body cannot be sent again`);
        }
        from = url;
        url = next;
      }
    }) as typeof fetch;
  }

  async close(): Promise<void> {
    await this.#agent?.close();
    this.#agent = undefined;
  }
}

/** A fetch failure caused by a refusal of the policy, unwrapped (fetch reports connect errors as TypeError("fetch failed")). */
function policyCause(err: unknown): OpenDepotError | undefined {
  for (let current = err, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (isOpenDepotError(current)) return current as OpenDepotError;
  }
  return undefined;
}

/** `Response.url` of the hop that answered (a manually followed redirect leaves it at the first). */
function withUrl(response: Response, url: URL): Response {
  if (response.url !== url.toString()) Object.defineProperty(response, 'url', { value: url.toString() });
  return response;
}

/**
 * Throws an InputError unless `url`'s host is allowed by `rule`; `what` says whose URL it is (e.g.
 * `download_url of registry.example.com/acme/x 1.0.0`).
 */
export function checkHost(url: URL, rule: HostRule, what: string): URL {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (rule.alsoAllowed?.some((h) => h.toLowerCase() === host)) return url;
  if (rule.allowlists.length === 0 || rule.allowlists.some((list) => list.hosts === undefined || list.hosts.some((pattern) => hostMatches(host, pattern)))) return url;
  const keys = rule.allowlists.map((list) => list.key);
  const listed = rule.allowlists.flatMap((list) => list.hosts ?? []);
  throw new InputError(`${what}: host ${host} (${redactUrl(url.toString())}) is not an allowed host (${keys.join(' or ')}: ${listed.join(', ') || 'empty'})`, {
    ...(rule.field ? { field: rule.field } : {}),
    hint: `add ${host} to ${keys[0]} in the operator's configuration if it is a host you trust`,
  });
}

/** The host part of a configured URL (for `alsoAllowed`). */
export function hostOfUrl(url: string): string[] {
  try {
    return [new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase()];
  } catch {
    return [];
  }
}
