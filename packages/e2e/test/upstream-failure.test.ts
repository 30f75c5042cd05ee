/**
 * An upstream that fails: GitHub answers 500s, then says it is rate limited. The Version shows
 * each in its conditions and Events, is retried with backoff (honouring the rate-limit reset),
 * and becomes Ready on its own once GitHub answers again. Real kube-apiserver, real operator.
 */
import { startGithubStandin, type GithubStandin } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import type { Condition } from './support/resources.ts';

interface Obj {
  status?: { conditions?: Condition[] };
}

let env: RegistryEnv;
let github: GithubStandin;
const NAME = 'flaky-1.0.0';

const readyCondition = async () => (await env.get<Obj>('version', NAME)).status?.conditions?.find((c) => c.type === 'Ready');
const eventReasons = async () => {
  const r = await env.kubectl(['get', 'events', '-n', env.namespace, '--field-selector', `involvedObject.name=${NAME}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: { reason: string; type: string; message: string }[] }).items;
};

test.before(async () => {
  github = await startGithubStandin();
  github.addRepo('acme', 'terraform-aws-flaky', { releases: [{ tag: 'v1.0.0', files: { 'main.tf': 'output "x" { value = 1 }\n' } }] });
  github.failNext(1_000_000, 500);
  env = await startRegistryEnv({ config: { operator: { github: { apiUrl: github.url } } } });
  await env.apply({
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'Module',
    metadata: { name: 'flaky' },
    spec: { moduleConfig: { name: 'flaky', provider: 'aws', repoOwner: 'acme', repoUrl: 'https://github.com/acme/terraform-aws-flaky' }, versions: [{ version: '1.0.0' }] },
  });
});

test.after(async () => {
  await env?.stop();
  await github?.close();
});

test('GitHub answering 500: Ready=False with SourceUnavailable, a Warning Event, and the Module says why', async () => {
  const ready = await eventually(
    'SourceUnavailable',
    async () => {
      const c = await readyCondition();
      return c?.reason === 'SourceUnavailable' ? c : undefined;
    },
    30_000,
  );
  assert.is(ready.status, 'False');
  assert.match(ready.message, /500|unavailable|server error/i);
  const events = await eventually(
    'a Warning Event',
    async () => {
      const e = await eventReasons();
      return e.some((x) => x.reason === 'SourceUnavailable' && x.type === 'Warning') ? e : undefined;
    },
    20_000,
  );
  assert.ok(events.length > 0);
  const module = await eventually(
    'the Module reports it',
    async () => {
      const m = await env.get<Obj>('module', 'flaky');
      return m.status?.conditions?.find((c) => c.type === 'Reconciling' && c.reason === 'SourceUnavailable');
    },
    20_000,
  );
  assert.match(module.message, /1\.0\.0/);
});

test('then rate limited: Ready=False with RateLimited and a Warning Event', async () => {
  github.failNext(0);
  github.setRateLimited({ kind: 'primary', resetInSeconds: 2 });
  const ready = await eventually(
    'RateLimited',
    async () => {
      const c = await readyCondition();
      return c?.reason === 'RateLimited' ? c : undefined;
    },
    60_000,
  );
  assert.match(ready.message, /rate limit/i);
  assert.ok((await eventReasons()).some((e) => e.reason === 'RateLimited' && e.type === 'Warning'));
});

test('once GitHub answers again the Version becomes Ready on its own', async () => {
  github.setRateLimited(false);
  const ready = await eventually(
    'Ready',
    async () => {
      const c = await readyCondition();
      return c?.status === 'True' ? c : undefined;
    },
    90_000,
  );
  assert.is(ready.reason, 'Succeeded');
  const module = await eventually(
    'Module Ready',
    async () => {
      const m = await env.get<Obj>('module', 'flaky');
      return m.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
    },
    20_000,
  );
  assert.ok(module);
});

test.run();
