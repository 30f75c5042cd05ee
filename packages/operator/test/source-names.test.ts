import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { moduleSourceName, providerSourceName } from '../src/controllers/source-names.ts';

test('moduleSourceName: moduleConfig.source wins; else github for no repoUrl or a github.com URL; else git', () => {
  assert.is(moduleSourceName({}), 'github');
  assert.is(moduleSourceName({ repoUrl: 'https://github.com/acme/vpc' }), 'github');
  assert.is(moduleSourceName({ repoUrl: 'https://GitHub.com/acme/vpc.git' }), 'github');
  assert.is(moduleSourceName({ repoUrl: 'git@github.com:acme/vpc.git' }), 'github');
  assert.is(moduleSourceName({ repoUrl: 'ssh://git@github.com/acme/vpc.git' }), 'github');
  assert.is(moduleSourceName({ repoUrl: 'https://gitlab.com/acme/vpc' }), 'git');
  assert.is(moduleSourceName({ repoUrl: 'https://github.com.evil.example/acme/vpc' }), 'git');
  assert.is(moduleSourceName({ repoUrl: 'git@git.example.com:acme/vpc.git' }), 'git');
  assert.is(moduleSourceName({ repoUrl: 'file:///srv/git/vpc' }), 'git');
  assert.is(moduleSourceName({ repoUrl: 'https://github.com/acme/vpc', source: 'git' }), 'git');
  assert.is(moduleSourceName({ repoUrl: 'https://git.example.com/acme/vpc', source: 'github' }), 'github');
});

test('providerSourceName: providerConfig.source wins; else hashicorp-releases', () => {
  assert.is(providerSourceName({}), 'hashicorp-releases');
  assert.is(providerSourceName({ source: 'registry' }), 'registry');
  assert.is(providerSourceName({ source: 'artifactory' }), 'artifactory');
});

test.run();
