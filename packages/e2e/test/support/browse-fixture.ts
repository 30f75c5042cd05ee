/**
 * The registry the browse UI tests look at: a module whose README is hostile (a `<script>`, an
 * `onerror` image, a `javascript:` link, a remote tracking image) and whose .tf files declare
 * two inputs and an output, stored in two versions by the real operator, which documents them.
 */
import { join } from 'node:path';
import { createGitRepo } from '@opendepot/testbed';
import { eventually, startRegistryEnv, type RegistryEnv } from './registry-env.ts';
import { ready, type Obj } from './resources.ts';

/** The module's name (also its Module resource's) and provider. */
export const BROWSE_MODULE = { name: 'terraform-aws-network', provider: 'aws' } as const;

/** The remote image the README shows, which no reader's browser may fetch. */
export const TRACKER_HOST = 'tracker.example.com';

export const HOSTILE_README = `# terraform-aws-network

Builds a **VPC** with private subnets.

<script>window.pwned = true</script>
<img src="x" onerror="window.pwned = true">

[click me](javascript:alert(1)) and [docs](https://example.com/docs)

![tracker](https://${TRACKER_HOST}/pixel.png)
`;

/** The inputs and outputs the module's .tf files declare, by name. */
export const DECLARED = { inputs: ['cidr_block', 'zones'], outputs: ['vpc_id'] } as const;

const FILES = {
  'README.md': HOSTILE_README,
  'variables.tf': 'variable "cidr_block" {\n  description = "The VPC range"\n  type        = string\n}\n\nvariable "zones" {\n  type    = list(string)\n  default = ["a", "b"]\n}\n',
  'outputs.tf': 'output "vpc_id" {\n  description = "The id of the VPC"\n  value       = "vpc-$' + '{var.cidr_block}"\n}\n',
  'versions.tf': 'terraform {\n  required_version = ">= 1.5"\n}\n',
};

/** Starts a registry environment holding the module in versions 1.0.0 and 1.1.0, both Ready. */
export async function startBrowseEnv(): Promise<RegistryEnv> {
  const env = await startRegistryEnv({});
  const repo = await createGitRepo(join(env.dir, 'network-repo'), { tags: { 'v1.0.0': FILES, 'v1.1.0': FILES } });
  await env.apply({
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Module',
    metadata: { name: BROWSE_MODULE.name },
    spec: { moduleConfig: { ...BROWSE_MODULE, repoUrl: repo.url, fileFormat: 'zip' }, versions: [{ version: '1.0.0' }, { version: '1.1.0' }] },
  });
  await eventually('the Module Ready', async () => ready(await env.get<Obj>('module', BROWSE_MODULE.name)), 120_000);
  return env;
}
