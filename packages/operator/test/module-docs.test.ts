/**
 * Documenting a module: the README and the inputs, outputs and required providers of its root
 * configuration files, parsed by HashiCorp's HCL parser (in a worker thread); a file that does
 * not parse is named in problems and the rest is still documented.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_README_BYTES, readModuleDocs } from '@opendepot/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { extractModuleDocs, readmeDescription } from '../src/module-docs/extract.ts';
import { HclParser } from '../src/module-docs/hcl-parser.ts';

const parser = new HclParser();
let dir: string;

const FILES: Record<string, string> = {
  'README.md': '# terraform-aws-vpc\n\n[![CI](https://example.com/badge.svg)](https://example.com)\n\nCreates a **VPC** with [subnets](https://docs.example.com)\nin every zone.\n\n## Usage\n',
  'variables.tf': `variable "name" {
  description = "Name of the VPC"
  type        = string
}

variable "cidrs" {
  type    = list(object({ cidr = string, zone = optional(string) }))
  default = [{ cidr = "10.0.0.0/16" }]
}

variable "token" {
  type      = string
  sensitive = true
  default   = null
}
`,
  'outputs.tf': `output "vpc_id" {
  description = "The VPC's id"
  value       = aws_vpc.this.id
}

output "secret" {
  value     = var.token
  sensitive = true
}
`,
  'versions.tf': `terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
    random = "~> 3.0"
  }
}
`,
  'extra.tf.json': JSON.stringify({ variable: { tags: { type: 'map(string)', default: {}, description: 'Tags' } }, output: { arn: { value: ['$', '{aws_vpc.this.arn}'].join('') } } }),
  'broken.tf': 'variable "x" {\n',
  'main.tf': 'resource "aws_vpc" "this" {\n  cidr_block = var.cidrs[0].cidr\n}\n',
};

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'opendepot-docs-test-'));
  for (const [name, text] of Object.entries(FILES)) await writeFile(join(dir, name), text);
});
test.after(async () => {
  await parser.close();
  await rm(dir, { recursive: true, force: true });
});

test('inputs (required first), outputs, required providers and the README, from the real HCL parser', async () => {
  const docs = await extractModuleDocs(dir, parser);
  assert.equal(docs.inputs, [
    { name: 'name', type: 'string', description: 'Name of the VPC', required: true, sensitive: false },
    { name: 'cidrs', type: 'list(object({ cidr = string, zone = optional(string) }))', default: [{ cidr: '10.0.0.0/16' }], required: false, sensitive: false },
    { name: 'tags', type: 'map(string)', description: 'Tags', default: {}, required: false, sensitive: false },
    { name: 'token', type: 'string', default: null, required: false, sensitive: true },
  ]);
  assert.equal(docs.outputs, [
    { name: 'arn', sensitive: false },
    { name: 'secret', sensitive: true },
    { name: 'vpc_id', description: "The VPC's id", sensitive: false },
  ]);
  assert.equal(docs.requiredProviders, [
    { name: 'aws', source: 'hashicorp/aws', version: '>= 5.0' },
    { name: 'random', version: '~> 3.0' },
  ]);
  assert.is(docs.requiredVersion, '>= 1.5');
  assert.equal(docs.readme, { file: 'README.md', markdown: FILES['README.md'], truncated: false });
  assert.is(docs.description, 'Creates a VPC with subnets in every zone.');
  assert.is(docs.problems.length, 1);
  assert.match(docs.problems[0]!, /^broken\.tf: .*broken\.tf:\d+,\d+/);
  // What is stored reads back the same.
  assert.equal(readModuleDocs(JSON.parse(JSON.stringify(docs))), docs);
});

test('a README over the limit is cut at the limit and marked truncated; one at the limit is whole', async () => {
  const work = await mkdtemp(join(tmpdir(), 'opendepot-docs-readme-'));
  try {
    await writeFile(join(work, 'README.md'), `Long.\n${'x'.repeat(MAX_README_BYTES * 3)}`);
    const long = await extractModuleDocs(work, parser);
    assert.is(long.readme?.markdown.length, MAX_README_BYTES);
    assert.is(long.readme?.truncated, true);
    await writeFile(join(work, 'README.md'), 'y'.repeat(MAX_README_BYTES));
    const exact = await extractModuleDocs(work, parser);
    assert.is(exact.readme?.markdown.length, MAX_README_BYTES);
    assert.is(exact.readme?.truncated, false);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('readmeDescription skips headings, badges, HTML, code and lists, and cuts long text', () => {
  assert.is(readmeDescription('<p align="center"><img src="x"></p>\n\n```hcl\nmodule "x" {}\n```\n\n- a list\n\nThe `first` _prose_.'), 'The first prose.');
  assert.is(readmeDescription('# only a heading\n'), undefined);
  assert.is(readmeDescription('x'.repeat(400))!.length, 300);
});

test('readModuleDocs refuses another schema version and drops malformed entries', () => {
  assert.is(readModuleDocs({ schemaVersion: 2, inputs: [] }), undefined);
  assert.is(readModuleDocs('nonsense'), undefined);
  const docs = readModuleDocs({ schemaVersion: 1, inputs: [{ name: 'a', required: true }, { noName: true }, 'x'], outputs: 'no', problems: [1, 'p'] })!;
  assert.equal(docs.inputs, [{ name: 'a', required: true, sensitive: false }]);
  assert.equal(docs.outputs, []);
  assert.equal(docs.problems, ['p']);
});

test('the parser worker stops when closed and a later parse starts a new one', async () => {
  await parser.close();
  assert.equal(await parser.parse('a.tf', 'locals {\n  a = 1\n}\n'), { locals: [{ a: 1 }] });
});

test.run();
