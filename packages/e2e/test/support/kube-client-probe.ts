/**
 * A process that makes core's Kubernetes client from the kubeconfig in argv[2] and lists
 * namespaces once, for lean-kube-client.test.ts to see which modules that loads.
 */
import { createKubeClient } from '@opendepot/core';

const client = createKubeClient({ kubeconfigPath: process.argv[2] });
const list = await client.request<{ items: unknown[] }>({ path: '/api/v1/namespaces' });
await client.close();
process.stdout.write(`${list.items.length} namespaces\n`);
