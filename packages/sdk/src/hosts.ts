/**
 * Host allowlists as platform configuration writes them (a storage plugin's
 * `allowedEndpointHosts`): one matcher, so every plugin reads the same entries the same way.
 */

/**
 * Whether `url`'s host is in `allowed`: entries are a host name (any port), `host:port`, or
 * `*.suffix` (any host below the suffix). Case-insensitive; IPv6 literals may be bracketed.
 */
export function hostAllowed(url: URL, allowed: readonly string[]): boolean {
  const hostname = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allowed.some((entry) => {
    const e = entry.trim().toLowerCase();
    if (e.startsWith('*.')) return hostname.endsWith(e.slice(1));
    const at = e.lastIndexOf(':');
    // `host:port`, but not a bare IPv6 address.
    if (at > 0 && /^\d+$/.test(e.slice(at + 1)) && !e.slice(0, at).includes(':')) return hostname === e.slice(0, at) && port === e.slice(at + 1);
    return hostname === e.replace(/^\[|\]$/g, '');
  });
}
