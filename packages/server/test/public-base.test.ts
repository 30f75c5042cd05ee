/** The base of the URLs answers hand out: external URL, the request's Host, trusted proxies only. */
import type { Context } from 'koa';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { publicBase } from '../src/http/public-base.ts';

/** A request as koa shows it: headers, and the socket it came over. */
function request(headers: Record<string, string>, socket: { remoteAddress?: string; encrypted?: boolean; localAddress?: string; localPort?: number } = {}): Context {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (name: string) => lower[name.toLowerCase()] ?? '', req: { socket: { remoteAddress: '203.0.113.9', localAddress: '10.1.2.3', localPort: 8443, ...socket } } } as unknown as Context;
}

test('externalUrl wins over everything, without its trailing slash', () => {
  const base = publicBase({ externalUrl: 'https://registry.example.com/prefix/', trustedProxies: ['0.0.0.0/0'] });
  assert.is(base(request({ Host: 'evil.example', 'X-Forwarded-Host': 'evil2.example' })), 'https://registry.example.com/prefix');
});

test('without it: the scheme of the socket and the Host the caller sent; forwarded headers of strangers are ignored', () => {
  const base = publicBase({});
  assert.is(base(request({ Host: 'registry.test:8443', 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Prefix': '/x' })), 'http://registry.test:8443');
  assert.is(base(request({ Host: 'registry.test' }, { encrypted: true })), 'https://registry.test');
  assert.is(base(request({ Host: '[::1]:8443' })), 'http://[::1]:8443');
  for (const host of ['', 'a b', 'evil.example/path', 'user@evil.example', 'evil.example\\x', '-bad-.example']) {
    assert.is(base(request({ Host: host })), 'http://10.1.2.3:8443', `Host ${JSON.stringify(host)} is not used`);
  }
  assert.is(base(request({}, { localAddress: '::ffff:127.0.0.1', localPort: 80 })), 'http://127.0.0.1:80');
  assert.is(base(request({}, { localAddress: 'fd00::1', localPort: 8080 })), 'http://[fd00::1]:8080');
});

test('trusted proxies (IPv4, IPv6, IPv4-mapped peers) are believed, first value of each header, checked', () => {
  const base = publicBase({ trustedProxies: ['10.0.0.0/8', 'fd00::/8', '192.168.1.10'] });
  const forwarded = { Host: 'internal:8080', 'X-Forwarded-Host': 'registry.example.com, inner.example', 'X-Forwarded-Proto': 'https, http', 'X-Forwarded-Prefix': '/registry/' };
  for (const peer of ['10.9.8.7', '::ffff:10.9.8.7', 'fd00::42', '192.168.1.10']) {
    assert.is(base(request(forwarded, { remoteAddress: peer })), 'https://registry.example.com/registry', peer);
  }
  assert.is(base(request(forwarded, { remoteAddress: '192.168.1.11' })), 'http://internal:8080', 'a neighbour of a trusted address is a stranger');
  const odd = { Host: 'internal:8080', 'X-Forwarded-Host': 'bad host', 'X-Forwarded-Proto': 'javascript', 'X-Forwarded-Prefix': '/a/../b' };
  assert.is(base(request(odd, { remoteAddress: '10.0.0.1' })), 'http://internal:8080', 'values that are not a host, a scheme or a plain prefix are ignored');
});

test('a trustedProxies entry that is not an address or CIDR is refused, naming it', () => {
  for (const entry of ['everyone', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/x']) {
    assert.throws(
      () => publicBase({ trustedProxies: ['10.0.0.0/8', entry] }),
      (err: Error & { field?: string }) => err.field === 'server.trustedProxies[1]' && err.message.includes(entry),
    );
  }
});

test.run();
