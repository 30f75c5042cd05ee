/**
 * The browse UI and its JSON API end to end, all real: a Module applied to kube-apiserver, the
 * operator documenting each version with HashiCorp's HCL parser while storing it, the server
 * reading that documentation from storage. Search finds the module by part of its name; its page
 * shows the README (rendered inert: no script, no javascript: link, no event attribute, no remote
 * image fetched), each input and output of its .tf files, and a usage snippet that `tofu init`
 * accepts pasted into a new directory.
 */
import { readFile } from 'node:fs/promises';
import { trustCaInProcess } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startBrowseEnv } from './support/browse-fixture.ts';
import type { RegistryEnv } from './support/registry-env.ts';

let env: RegistryEnv;
let base: string;

const get = async (path: string, headers: Record<string, string> = {}) => {
  const r = await fetch(`${base}${path}`, { headers, redirect: 'manual' });
  return { status: r.status, headers: r.headers, text: await r.text() };
};

test.before(async () => {
  env = await startBrowseEnv();
  trustCaInProcess(await readFile(env.caFile, 'utf8'));
  base = env.server.listening.url;
});

test.after(async () => {
  await env?.stop();
});

test('status.docs summarizes what was documented; the JSON API lists the module and details its inputs and outputs', async () => {
  const versions = JSON.parse((await env.kubectl(['get', 'versions', '-n', env.namespace, '-o', 'json'])).stdout) as { items: { status?: { docs?: unknown } }[] };
  for (const v of versions.items) assert.equal(v.status?.docs, { description: 'Builds a VPC with private subnets.', readme: true, inputs: 2, outputs: 1, problems: 0 });
  // In this env's namespace: the server also lists what test files running beside this one hold.
  const list = JSON.parse((await get(`/opendepot/api/v1/catalog?q=aws-net&namespace=${env.namespace}`)).text) as { items: { name: string; latest: string; description: string }[]; total: number };
  assert.is(list.total, 1);
  assert.equal(
    { name: list.items[0]!.name, latest: list.items[0]!.latest, description: list.items[0]!.description },
    { name: 'terraform-aws-network', latest: '1.1.0', description: 'Builds a VPC with private subnets.' },
  );
  assert.is(JSON.parse((await get(`/opendepot/api/v1/catalog?q=gcp&namespace=${env.namespace}`)).text).total, 0);
  const detail = JSON.parse((await get(`/opendepot/api/v1/modules/${env.namespace}/terraform-aws-network/aws?version=1.0.0`)).text) as {
    selected: { version: string; docs: { inputs: unknown[]; outputs: unknown[]; requiredVersion: string } };
    usage: string;
  };
  assert.is(detail.selected.version, '1.0.0');
  assert.equal(detail.selected.docs.inputs, [
    { name: 'cidr_block', type: 'string', description: 'The VPC range', required: true, sensitive: false },
    { name: 'zones', type: 'list(string)', default: ['a', 'b'], required: false, sensitive: false },
  ]);
  assert.equal(detail.selected.docs.outputs, [{ name: 'vpc_id', description: 'The id of the VPC', sensitive: false }]);
  assert.is(detail.selected.docs.requiredVersion, '>= 1.5');
  assert.is((await get(`/opendepot/api/v1/modules/${env.namespace}/nothing/aws`)).status, 404);
});

test('the list page finds the module by part of its name; its page shows the README inert, the inputs and outputs, and a strict CSP', async () => {
  const list = await get('/ui/?q=network');
  assert.is(list.status, 200);
  assert.match(list.text, `href="/ui/modules/${env.namespace}/terraform-aws-network/aws"`);
  assert.match(list.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  const page = await get(`/ui/modules/${env.namespace}/terraform-aws-network/aws`);
  assert.is(page.status, 200, page.text);
  assert.match(page.text, /<strong>VPC<\/strong> with private subnets/);
  for (const name of ['cidr_block', 'zones', 'vpc_id']) assert.match(page.text, `<code>${name}</code>`);
  // Inert: the hostile markup is text, the javascript: link is not a link, the remote image is not fetched.
  assert.not.match(page.text, /<script>window/);
  assert.match(page.text, /&lt;script&gt;window\.pwned/);
  assert.not.match(page.text, /<img[^>]*onerror/i);
  assert.not.match(page.text, /href="javascript:/i);
  assert.not.match(page.text, /<img[^>]*tracker\.example\.com/);
  assert.match(page.text, /href="https:\/\/example\.com\/docs" rel="noopener noreferrer nofollow"/);
  assert.is((await get('/ui/modules/nowhere/terraform-aws-network/aws')).status, 404);
});

test('the usage snippet is accepted by tofu init in a new directory', async () => {
  const detail = JSON.parse((await get(`/opendepot/api/v1/modules/${env.namespace}/terraform-aws-network/aws`)).text) as { usage: string };
  assert.match(detail.usage, /# cidr_block = <string>/);
  const run = await env.client('tofu', detail.usage);
  assert.is(run.code, 0, run.output);
  assert.match(run.output, /terraform-aws-network/);
});

test.run();
