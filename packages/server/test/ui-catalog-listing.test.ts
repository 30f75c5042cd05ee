/**
 * The browse list's entries are kept between requests: every informer event must drop them, so
 * a new module, a new version or a changed description shows on the next request, and nothing
 * is kept before the caches have synced.
 */
import type { Module, Version } from '@opendepot/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ModuleCatalog, ProviderCatalog } from '../src/index.ts';
import { CatalogListing } from '../src/ui/catalog-listing.ts';
import { moduleResource, versionResource } from './support/fixtures.ts';
import { MemoryInformer } from './support/memory-informer.ts';

const stored = { checksum: '0'.repeat(64), size: 1 };

function listingOf(options: { synced?: boolean } = {}) {
  const modules = new MemoryInformer<Module>([], options);
  const versions = new MemoryInformer<Version>([], options);
  const informers = { modules, versions };
  const listing = new CatalogListing(new ModuleCatalog(informers), new ProviderCatalog(versions), informers);
  const summary = () => listing.entries().map((e) => (e.kind === 'module' ? `${e.name} ${e.latest ?? '-'} ${e.description ?? ''}`.trim() : e.type));
  return { modules, versions, listing, summary };
}

const withDescription = (v: Version, description: string): Version => ({ ...v, status: { ...v.status, docs: { description, readme: true, inputs: 0, outputs: 0, problems: 0 } } });

test('the entries are the same object between requests while nothing changes', () => {
  const { modules, listing } = listingOf();
  modules.put(moduleResource({ name: 'network' }));
  assert.is(listing.entries(), listing.entries());
});

test('a new module, a new version, a changed description and a deletion each show on the next request', () => {
  const { modules, versions, summary } = listingOf();
  const network = moduleResource({ name: 'network' });
  modules.put(network);
  assert.equal(summary(), ['network -']);
  modules.put(moduleResource({ name: 'dns' }));
  assert.equal(summary(), ['dns -', 'network -']);
  const v1 = versionResource({ owner: network, version: '1.0.0', stored });
  versions.put(withDescription(v1, 'A VPC.'));
  assert.equal(summary(), ['dns -', 'network 1.0.0 A VPC.']);
  versions.put(withDescription(v1, 'A VPC with subnets.'));
  assert.equal(summary(), ['dns -', 'network 1.0.0 A VPC with subnets.']);
  versions.remove(v1);
  assert.equal(summary(), ['dns -', 'network -']);
  modules.remove(network);
  assert.equal(summary(), ['dns -']);
});

test('before the caches have synced nothing is kept: a first list that fills them silently still shows', () => {
  const { modules, versions, listing, summary } = listingOf({ synced: false });
  assert.equal(summary(), []);
  modules.putSilently(moduleResource({ name: 'network' }));
  modules.markSynced();
  versions.markSynced();
  assert.equal(summary(), ['network -']);
  assert.is(listing.entries(), listing.entries());
});

test('dispose stops following the informers', () => {
  const { modules, listing, summary } = listingOf();
  assert.equal(summary(), []);
  listing.dispose();
  modules.put(moduleResource({ name: 'network' }));
  assert.equal(summary(), [], 'a disposed listing keeps what it had');
});

test.run();
