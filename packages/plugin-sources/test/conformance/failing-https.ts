/** A loopback HTTPS server that answers every request with one status: an upstream that is down or refusing. */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createTestCertificates } from '@opendepot/testbed';

/** A running failing server. */
export interface FailingHttps {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** PEM of the CA that signed its certificate. */
  readonly caPem: string;
  /** The status every request gets from now on. */
  answer(status: number): void;
  stop(): Promise<void>;
}

export async function startFailingHttps(): Promise<FailingHttps> {
  const certs = await createTestCertificates();
  let status = 503;
  const server = createServer({ cert: certs.certPem, key: certs.keyPem }, (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain', ...(status === 401 ? { 'www-authenticate': 'Basic realm="git"' } : {}) }).end(`answering ${status}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    caPem: certs.caPem,
    answer: (next) => void (status = next),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
