/**
 * The owner controller against a real API server: a plan that fails with an error carrying
 * credentials (a URL with a password, a GitHub token, a token query parameter) and 10 KB of text
 * leaves a Stalled condition, a syncStatus and a Warning Event that hold neither the credentials
 * nor more than MAX_CONDITION_MESSAGE characters.
 */
import { CORE_RESOURCES, MAX_CONDITION_MESSAGE, RESOURCES, createInformer, createKubeClient, resourceClient, type Module, type Version } from '@opendepot/core';
import { useControlPlane } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ownerReconciler } from '../src/controllers/owner-controller.ts';
import { EventRecorder, type CoreEvent } from '../src/runtime/events.ts';
import { StatusWriter } from '../src/runtime/status.ts';
import { dropNamespace, freshNamespace, moduleObject, waitUntil } from './runtime-helpers.ts';

const cp = await useControlPlane();
const ns = await freshNamespace(cp, 'owner-message');
const client = createKubeClient({ kubeconfigPath: cp.kubeconfigPath });
const modules = resourceClient<Module>(client, RESOURCES.module, { fieldManager: 'owner-message-test' });
const versions = resourceClient<Version>(client, RESOURCES.version, { fieldManager: 'owner-message-test' });
const events = resourceClient<CoreEvent>(client, CORE_RESOURCES.event);
const moduleInformer = createInformer<Module>(client, RESOURCES.module, { namespace: ns });
const versionInformer = createInformer<Version>(client, RESOURCES.version, { namespace: ns });
await Promise.all([moduleInformer.start(), versionInformer.start()]);

const SECRETS = ['hunter2-password', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'query-token-s3cr3t'];
const leaky = `cannot clone https://deploy:${SECRETS[0]}@git.example.com/org/repo.git with ${SECRETS[1]} (see https://git.example.com/x?token=${SECRETS[2]}): ${'x'.repeat(10 * 1024)}`;

const reconcile = ownerReconciler(
  {
    kind: 'Module',
    informer: moduleInformer,
    resource: modules,
    status: new StatusWriter(modules),
    plan: () => {
      throw new Error(leaky);
    },
  },
  { versions: versionInformer, versionResource: versions, events: new EventRecorder({ client, component: 'owner-message-test' }) },
);

test.after(async () => {
  moduleInformer.stop();
  versionInformer.stop();
  await dropNamespace(cp, ns);
});

test('a failed plan stalls the owner with a redacted, bounded message in its condition, syncStatus and Event', async () => {
  await modules.create(moduleObject(ns, 'leaky'));
  await waitUntil('module cached', async () => moduleInformer.get(ns, 'leaky'));
  await reconcile(`${ns}/leaky`, new AbortController().signal);

  const module = await modules.get(ns, 'leaky');
  const stalled = module.status?.conditions?.find((c) => c.type === 'Stalled');
  assert.ok(stalled, JSON.stringify(module.status));
  assert.is(stalled.status, 'True');
  assert.is(stalled.reason, 'InvalidSpec');
  assert.match(stalled.message, /cannot clone https:\/\/deploy:\[REDACTED\]@git\.example\.com/);
  const event = await waitUntil('warning event', async () => (await events.list(ns)).items.find((e) => e.involvedObject.name === 'leaky' && e.type === 'Warning'));
  const texts = { condition: stalled.message, syncStatus: String((module.status as { syncStatus?: string }).syncStatus), event: event.message };
  for (const [where, text] of Object.entries(texts)) {
    for (const secret of SECRETS) assert.not.ok(text.includes(secret), `${where} leaks ${secret}`);
    assert.ok(text.length <= MAX_CONDITION_MESSAGE, `${where} is ${text.length} characters`);
  }
  assert.is(event.reason, 'InvalidSpec');
});

test.run();
