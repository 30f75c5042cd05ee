/** A raw HTTP client for tests that must see exactly what arrived, including a cut-off body. */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** True only when the whole body arrived and the message ended cleanly. */
  complete: boolean;
  /** The error the client saw, if the transfer failed. */
  error?: Error;
}

/** One request over HTTP, or HTTPS trusting `ca` (PEM). */
export function rawRequest(url: string, options: { method?: string; headers?: Record<string, string>; ca?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false, ...(options.ca !== undefined && { ca: options.ca }) }, (res) => {
      const chunks: Buffer[] = [];
      let error: Error | undefined;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => (error = err));
      res.on('close', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          complete: res.complete && error === undefined,
          ...(error === undefined ? {} : { error }),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}
