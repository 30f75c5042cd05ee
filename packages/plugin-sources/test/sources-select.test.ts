import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isPlugin } from '@opendepot/sdk';
import * as sources from '../src/index.ts';
import { versionFromTag } from '../src/versions.ts';

test('each first-party source is the default export of its own entry point, and a named export of the package', async () => {
  const entries = {
    github: [await import('@opendepot/plugin-sources/github'), sources.githubArchiveSourcePlugin],
    git: [await import('@opendepot/plugin-sources/git'), sources.gitArchiveSourcePlugin],
    'hashicorp-releases': [await import('@opendepot/plugin-sources/hashicorp-releases'), sources.hashicorpReleasesSourcePlugin],
    registry: [await import('@opendepot/plugin-sources/registry'), sources.registrySourcePlugin],
  } as const;
  for (const [name, [entry, named]] of Object.entries(entries)) {
    assert.ok(isPlugin(entry.default), name);
    assert.is(entry.default, named, name);
    assert.is(entry.default.kind, 'archive-source', name);
    assert.is(entry.default.name, name);
  }
});

test('versionFromTag accepts v-prefixed and bare semver tags only', () => {
  assert.is(versionFromTag('v1.2.3'), '1.2.3');
  assert.is(versionFromTag('1.2.3'), '1.2.3');
  assert.is(versionFromTag('v1.2.3-rc.1'), '1.2.3-rc.1');
  for (const tag of ['1.2', 'v1', 'release-1.2.3', 'V1.2.3', 'v1.2.3+build.5', 'v01.2.3', '1.2.3 ', 'latest']) {
    assert.is(versionFromTag(tag), undefined, tag);
  }
});

test.run();
