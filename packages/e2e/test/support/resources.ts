/** Shapes and small readers the end-to-end tests share: objects as kubectl prints them, and the server's access log. */
import type { RepoFiles } from '@opendepot/testbed';
import * as assert from 'uvu/assert';
import type { RegistryEnv } from './registry-env.ts';

/** A status condition. */
export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** A Module, Provider or Version as `kubectl get -o json` prints it (the fields the tests read). */
export interface Obj {
  metadata: { name: string };
  spec: Record<string, unknown> & { version?: string };
  status?: { conditions?: Condition[]; checksum?: string; size?: number; storageKey?: string; progress?: string };
}

/** One line of the server's access log (and of its other log lines). */
export interface AccessLine {
  msg?: string;
  method?: string;
  path?: string;
  route?: string;
  status?: number;
  outcome?: string;
  reason?: string;
}

/** True when the object's Ready condition is True. */
export const ready = (o: Pick<Obj, 'status'>): boolean => o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** A one-output module whose files say its version (and, in the README, where it is stored). */
export const moduleFiles = (version: string, storedIn: string): RepoFiles => ({
  'main.tf': `output "version" {\n  value = "${version}"\n}\n`,
  'README.md': `# stored in ${storedIn}, ${version}\n`,
});

/** The server's access-log lines of archive GETs of one module. */
/** A Module of one version, 1.0.0, from the git remote at `repoUrl`. */
export const oneVersionModule = (name: string, provider: string, repoUrl: string) => ({
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Module',
  metadata: { name },
  spec: { moduleConfig: { name, provider, repoUrl, fileFormat: 'zip' }, versions: [{ version: '1.0.0' }] },
});

export const archiveGets = (env: RegistryEnv, module: string): AccessLine[] =>
  (env.logs as AccessLine[]).filter((l) => l.msg === 'request' && l.route === 'modules.archive' && l.method === 'GET' && l.path?.includes(`/${module}/aws/`));

/** Every archive GET of `module` was proxied by the server (200) and verified against its checksum on the way. */
export function assertProxiedAndVerified(env: RegistryEnv, module: string): void {
  const gets = archiveGets(env, module);
  assert.ok(gets.length > 0, 'the server saw the archive download');
  for (const line of gets) {
    assert.is(line.status, 200, JSON.stringify(line));
    assert.is(line.outcome, 'verified');
  }
}
