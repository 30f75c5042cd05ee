/**
 * Where the plugin sends credentials: AWS's own S3 hosts, or hosts the platform listed in
 * `allowedEndpointHosts`. Any other endpoint is refused before a client is made, and every
 * request is checked again just before it leaves (after signing), so a signed request, its key
 * id or session token never reach a host the platform did not name.
 */
import { InputError, hostAllowed } from '@opendepot/sdk';
import type { S3Client } from '@aws-sdk/client-s3';

/** Whether `hostname` is one of AWS's (commercial, China and GovCloud partitions are all under these). */
export function isAwsHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'amazonaws.com' || host.endsWith('.amazonaws.com') || host.endsWith('.amazonaws.com.cn');
}

/**
 * Refuses an `endpoint` that is neither an https AWS host nor allowed. Throws an `InputError`
 * whose field is `endpoint`; `configPath` names the config in the message.
 */
export function checkEndpoint(endpoint: string | undefined, allowed: readonly string[], configPath: string): void {
  if (endpoint === undefined) return;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (err) {
    throw new InputError(`${configPath}.endpoint is not a URL`, { field: 'endpoint', cause: err });
  }
  if ((url.protocol === 'https:' && isAwsHost(url.hostname)) || hostAllowed(url, allowed)) return;
  throw new InputError(`${configPath}.endpoint: S3 credentials are sent only to AWS's S3 hosts or to hosts in allowedEndpointHosts, and ${url.host} is neither`, {
    field: 'endpoint',
    hint: `If ${url.host} is your S3-compatible service, the platform adds it to allowedEndpointHosts of the storage profile (Helm values: storage.profiles.<name>.s3.allowedEndpointHosts).`,
  });
}

/**
 * A last check on every request, after signing: its host must be the endpoint's (or the
 * bucket's virtual host below it), an AWS host when no endpoint is set, or an allowed host.
 */
export function guardRequestHosts(client: S3Client, options: { endpoint?: string | undefined; bucket: string; allowed: readonly string[] }): void {
  const endpointHost = options.endpoint === undefined ? undefined : new URL(options.endpoint).hostname.toLowerCase();
  const ok = (hostname: string, url: URL): boolean => {
    const host = hostname.toLowerCase();
    if (endpointHost === undefined) return isAwsHost(host) || hostAllowed(url, options.allowed);
    return host === endpointHost || host === `${options.bucket}.${endpointHost}` || hostAllowed(url, options.allowed);
  };
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { hostname?: string; protocol?: string; port?: number };
      if (request.hostname !== undefined) {
        const url = new URL(`${request.protocol ?? 'https:'}//${request.hostname.includes(':') ? `[${request.hostname}]` : request.hostname}${request.port ? `:${request.port}` : ''}/`);
        if (!ok(request.hostname, url)) throw new InputError(`refusing to send an S3 request to ${url.host}: not the configured endpoint or an allowed host`, { field: 'endpoint' });
      }
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'opendepotRequestHostGuard' },
  );
}
