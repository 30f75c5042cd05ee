/**
 * A dripping upstream for the issue 10 §2 tests: a proxy in front of the HashiCorp Releases
 * stand-in that forwards everything, except one provider's zips, which it answers with a large
 * `content-length` and then one byte every `intervalMs`, forever (until the client hangs up).
 */
import { Buffer } from 'node:buffer';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running drip proxy. */
export interface DripProxy {
  server: Server;
  /** The proxy's base URL: configure it as `operator.providers.hashicorpReleasesUrl`. */
  url: string;
  /** Cuts every open connection and stops listening. */
  close(): void;
}

/** Starts a proxy in front of `upstream` whose `terraform-provider-<provider>` zips drip one byte every `intervalMs`. */
export async function startDripProxy(upstream: string, { provider = 'drip', intervalMs = 500 }: { provider?: string; intervalMs?: number } = {}): Promise<DripProxy> {
  let self = '';
  const server = createServer((req, res) => {
    if (req.url?.includes(`terraform-provider-${provider}`) && req.url.endsWith('.zip')) {
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': '10000000' });
      res.flushHeaders();
      const timer = setInterval(() => res.write(Buffer.from([0x50])), intervalMs);
      res.on('close', () => clearInterval(timer));
      return;
    }
    const forward = request(`${upstream}${req.url}`, { method: req.method }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        // The Releases API answers absolute URLs: point them at the proxy.
        const body = Buffer.from(Buffer.concat(chunks).toString('latin1').split(upstream).join(self), 'latin1');
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, 'content-length': String(body.length) });
        res.end(body);
      });
    });
    forward.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    url: self,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}
