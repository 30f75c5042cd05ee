/**
 * The GroupBinding controller in the real operator (`startOperator`) against a real API server:
 * a valid binding becomes Ready for its generation, a hostile or malformed one gets
 * Ready=False/Stalled with the reason InvalidExpression (or InvalidResourcePattern) and the
 * parser's message plus a Warning Event, and fixing it makes it Ready. The CRD's own schema
 * refuses what never reaches the controller (an empty expression, an empty glob).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORE_RESOURCES, RESOURCES, createKubeClient, createLogger, parseConfig, resourceClient, type Condition, type GroupBinding, type HostConfig } from '@opendepot/core';
import { useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { startOperator } from '../src/operator.ts';
import type { CoreEvent } from '../src/runtime/events.ts';
import { dropNamespace, freshNamespace, waitUntil } from './runtime-helpers.ts';

const cp = await useControlPlane();
const ns = await freshNamespace(cp, 'groupbinding');
const dir = await mkdtemp(join(tmpdir(), 'opendepot-groupbinding-'));
const client = createKubeClient({ kubeconfigPath: cp.kubeconfigPath });
const bindings = resourceClient<GroupBinding>(client, RESOURCES.groupBinding, { fieldManager: 'groupbinding-test' });
const events = resourceClient<CoreEvent>(client, CORE_RESOURCES.event);

const { config } = parseConfig(
  stringify({
    logLevel: 'warn',
    namespace: ns,
    plugins: [{ package: '@opendepot/plugin-fs' }],
    storage: { defaultProfile: 'default', profiles: { default: { filesystem: { path: join(dir, 'storage') } } } },
    operator: { leaderElection: { enabled: false }, watchNamespaces: [ns] },
  }),
  { baseDir: fileURLToPath(new URL('..', import.meta.url)) },
);
const operator = await startOperator({
  config: config as HostConfig,
  kubeconfigPath: cp.kubeconfigPath,
  healthPort: 0,
  spoolRoot: join(dir, 'spool'),
  logger: createLogger({ level: 'warn', name: 'operator' }),
});

test.after(async () => {
  await operator.stop();
  await client.close();
  await dropNamespace(cp, ns);
  await rm(dir, { recursive: true, force: true });
});

function groupBinding(name: string, expression: string, moduleResources: string[] = ['terraform-aws-*'], providerResources: string[] = ['aws']): GroupBinding {
  return { apiVersion: 'opendepot.defdev.io/v1alpha1', kind: 'GroupBinding', metadata: { name, namespace: ns }, spec: { expression, moduleResources, providerResources } };
}

/** Waits until the binding's Ready condition is for its current generation and satisfies `check`. */
async function readyCondition(name: string, check: (ready: Condition) => boolean, what: string): Promise<{ binding: GroupBinding; ready: Condition }> {
  return waitUntil(
    `${name}: ${what}`,
    async () => {
      const binding = await bindings.get(ns, name);
      const ready = binding.status?.conditions?.find((c) => c.type === 'Ready');
      return ready && binding.status?.observedGeneration === binding.metadata.generation && ready.observedGeneration === binding.metadata.generation && check(ready) ? { binding, ready } : undefined;
    },
    20_000,
  );
}

const warningsAbout = async (name: string) => (await events.list(ns, { fieldSelector: `involvedObject.name=${name}` })).items.filter((e) => e.type === 'Warning');

test("the announcement's binding becomes Ready for its generation", async () => {
  await bindings.create(groupBinding('01-aws-platform-team', '"aws-platform-team" in groups'));
  const { binding, ready } = await readyCondition('01-aws-platform-team', (c) => c.status === 'True', 'Ready=True');
  assert.is(ready.reason, 'Succeeded');
  assert.match(ready.message, /grants modules: terraform-aws-\*; providers: aws/);
  assert.is(binding.status?.observedGeneration, 1);
  assert.not.ok(binding.status?.conditions?.some((c) => c.type === 'Stalled'));
});

test('hostile expressions get Ready=False, InvalidExpression, the message and a Warning Event; fixing one makes it Ready', async () => {
  const hostile: [string, string, RegExp][] = [
    ['ctor', 'constructor.constructor("return process")()', /the name "constructor" is not allowed/],
    ['call', 'exec("id")', /function calls are not allowed \(exec\(\.\.\.\)\)/],
    ['proto', 'groups.__proto__ == 1', /the member "groups\.__proto__" is not allowed/],
    ['deep', `${'('.repeat(1000)}true${')'.repeat(1000)}`, /nests deeper than 32 levels/],
    ['syntax', '"aws-platform-team" in', /spec\.expression: unexpected/],
    ['concat', '"a" in groups || "b" in groups', /use or/],
  ];
  for (const [name, expression] of hostile) await bindings.create(groupBinding(name, expression));
  for (const [name, , message] of hostile) {
    const { binding, ready } = await readyCondition(name, (c) => c.status === 'False', 'Ready=False');
    assert.is(ready.reason, 'InvalidExpression', name);
    assert.match(ready.message, /^spec\.expression: /);
    assert.match(ready.message, message, ready.message);
    const stalled = binding.status?.conditions?.find((c) => c.type === 'Stalled');
    assert.is(stalled?.status, 'True');
    assert.is(stalled?.reason, 'InvalidExpression');
    const warnings = await waitUntil(`a Warning Event about ${name}`, async () => {
      const list = await warningsAbout(name);
      return list.length > 0 ? list : undefined;
    });
    assert.is(warnings[0]!.reason, 'InvalidExpression');
    assert.match(warnings[0]!.message, message);
  }

  // The fix: a new generation, Ready=True, and Stalled gone.
  await bindings.patch(ns, 'call', { spec: { expression: '"aws-platform-team" in groups and email_verified' } });
  const { binding } = await readyCondition('call', (c) => c.status === 'True', 'Ready=True after the fix');
  assert.is(binding.metadata.generation, 2);
  assert.is(binding.status?.observedGeneration, 2);
  assert.not.ok(binding.status?.conditions?.some((c) => c.type === 'Stalled'));

  // And broken again: back to False for generation 3.
  await bindings.patch(ns, 'call', { spec: { expression: 'admin = true' } });
  const again = await readyCondition('call', (c) => c.status === 'False', 'Ready=False again');
  assert.is(again.binding.metadata.generation, 3);
  assert.match(again.ready.message, /assignments \(=\) are not allowed/);
});

test('globs the schema lets through but the controller refuses: Ready=False with InvalidResourcePattern naming the field; fixed, Ready', async () => {
  await bindings.create(groupBinding('globs', '"aws-platform-team" in groups', ['terraform-aws-*', '*a*a*a*a*a*a*a*a*a'], ['[aws']));
  const { ready } = await readyCondition('globs', (c) => c.status === 'False', 'Ready=False');
  assert.is(ready.reason, 'InvalidResourcePattern');
  assert.match(ready.message, /^spec\.moduleResources\[1\]: "\*a\*a\*a\*a\*a\*a\*a\*a\*a": at most 8 \* wildcards are allowed in one glob/);
  await bindings.patch(ns, 'globs', { spec: { moduleResources: ['terraform-aws-*', 'terraform-[ab]-*'] } });
  const next = await readyCondition('globs', (c) => c.status === 'False' && c.message.includes('providerResources'), 'the provider glob reported');
  assert.match(next.ready.message, /^spec\.providerResources\[0\]: "\[aws": a \[ class is not closed/);
  await bindings.patch(ns, 'globs', { spec: { providerResources: ['aws', 'aws-*'] } });
  await readyCondition('globs', (c) => c.status === 'True', 'Ready=True');
});

test("the CRD's schema refuses an empty, blank, missing or too long expression and an empty or brace glob, naming the field", async () => {
  const refused = async (object: GroupBinding): Promise<string> => {
    try {
      await bindings.create(object);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    assert.unreachable(`created ${object.metadata.name}`);
    return '';
  };
  assert.match(await refused(groupBinding('empty', '')), /spec\.expression.*should be at least 1 chars long/s);
  assert.match(await refused(groupBinding('blank', ' \t ')), /expression must not be empty or only whitespace/);
  assert.match(await refused({ ...groupBinding('missing', 'x'), spec: { moduleResources: ['*'] } as never }), /spec\.expression: Required value/);
  assert.match(await refused(groupBinding('empty-glob', 'true', [''])), /spec\.moduleResources\[0\].*should be at least 1 chars long/s);
  assert.match(await refused(groupBinding('brace-glob', 'true', ['terraform-{aws,gcp}-*'])), /spec\.moduleResources\[0\].*should match/s);
  assert.match(await refused(groupBinding('too-long', `"${'a'.repeat(5000)}" in groups`)), /spec\.expression.*Too long/is);
});

test.run();
