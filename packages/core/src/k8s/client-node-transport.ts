/**
 * The transport for kubeconfig users core does not handle itself (exec plugins, auth-provider,
 * proxy-url, impersonation): @kubernetes/client-node applies their credentials and sends. It is
 * imported dynamically on the first request, so only those users pay for it (~65 MB of memory and
 * seconds of start-up); in-cluster and certificate/token users never load it.
 */
import type { KubeTransport, TransportResponse } from './transport.ts';

/** A transport over client-node for `kubeconfig` (one document, its current context set). */
export function clientNodeTransport(kubeconfig: string): KubeTransport {
  type ClientNode = typeof import('@kubernetes/client-node');
  let loaded: Promise<{ cn: ClientNode; kc: InstanceType<ClientNode['KubeConfig']>; http: InstanceType<ClientNode['IsomorphicFetchHttpLibrary']> }> | undefined;
  const load = () =>
    (loaded ??= import('@kubernetes/client-node').then((cn) => {
      const kc = new cn.KubeConfig();
      kc.loadFromString(kubeconfig);
      return { cn, kc, http: new cn.IsomorphicFetchHttpLibrary() };
    }));
  // client-node builds a new connection pool for every request; keep the first one so requests
  // reuse kept-alive connections. Credentials (headers) are still applied per request, so an
  // exec plugin's refreshed token is picked up.
  let dispatcher: ReturnType<import('@kubernetes/client-node').RequestContext['getDispatcher']>;
  return {
    async send(req): Promise<TransportResponse> {
      const { cn, kc, http } = await load();
      const ctx = new cn.RequestContext(req.url, req.method as import('@kubernetes/client-node').HttpMethod);
      await kc.applySecurityAuthentication(ctx);
      if (dispatcher === undefined) dispatcher = ctx.getDispatcher();
      else ctx.setDispatcher(dispatcher);
      for (const [name, value] of Object.entries(req.headers)) ctx.setHeaderParam(name, value);
      if (req.body !== undefined) ctx.setBody(req.body);
      ctx.setSignal(req.signal);
      const res = await http.send(ctx).toPromise();
      return {
        status: res.httpStatusCode,
        headers: res.headers,
        text: () => res.body.text(),
        stream: () => {
          const body = res.body.stream();
          if (!body) throw new Error(`${req.url}: the answer has no body`);
          return body;
        },
      };
    },
    async close() {
      await dispatcher?.destroy();
    },
  };
}
