/** The module the example's tests serve: acme/vpc with three versions, one listed with its checksum. */
import { createHash } from 'node:crypto';
import { makeTarGz } from '@opendepot/sdk/testkit';
import type { DirectoryServer } from './directory-server.ts';

// Outputs only: `tofu init` of a module that uses them needs no provider.
const mainTf = (version: string) => `output "version" {\n  value = "${version} from the https-dir source"\n}\n`;
export const V1 = makeTarGz({ 'main.tf': mainTf('1.0.0'), 'modules/sub/main.tf': 'output "x" { value = 1 }\n' });
export const V11 = makeTarGz({ 'main.tf': mainTf('1.1.0'), 'README.md': '# vpc\n' });
export const V2 = makeTarGz({ 'main.tf': mainTf('2.0.0') });

/** Puts acme/vpc's index and archives on `server`. */
export function serveVpc(server: DirectoryServer): void {
  server.put(
    '/acme/vpc/index.json',
    JSON.stringify({
      versions: ['v1.0.0', { version: '1.1.0', sha256: createHash('sha256').update(V11).digest('hex'), publishedAt: '2025-02-01T10:00:00Z' }, { version: 'v2.0.0' }, 'latest'],
    }),
  );
  server.put('/acme/vpc/vpc-v1.0.0.tar.gz', V1);
  server.put('/acme/vpc/vpc-1.1.0.tar.gz', V11);
  server.put('/acme/vpc/vpc-v2.0.0.tar.gz', V2);
}
