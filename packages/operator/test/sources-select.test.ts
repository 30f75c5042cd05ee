import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GitArchiveSource, GithubArchiveSource, createModuleSource, moduleArchiveSubject, sourceKindFor } from '../src/sources/index.ts';
import { subjectSettings } from '../src/sources/subject.ts';
import { versionFromTag } from '../src/sources/versions.ts';

test('sourceKindFor: moduleConfig.source wins; else github for no repoUrl or a github.com URL; else git', () => {
  assert.is(sourceKindFor({}), 'github');
  assert.is(sourceKindFor({ repoUrl: 'https://github.com/acme/vpc' }), 'github');
  assert.is(sourceKindFor({ repoUrl: 'https://GitHub.com/acme/vpc.git' }), 'github');
  assert.is(sourceKindFor({ repoUrl: 'git@github.com:acme/vpc.git' }), 'github');
  assert.is(sourceKindFor({ repoUrl: 'ssh://git@github.com/acme/vpc.git' }), 'github');
  assert.is(sourceKindFor({ repoUrl: 'https://gitlab.com/acme/vpc' }), 'git');
  assert.is(sourceKindFor({ repoUrl: 'https://github.com.evil.example/acme/vpc' }), 'git');
  assert.is(sourceKindFor({ repoUrl: 'git@git.example.com:acme/vpc.git' }), 'git');
  assert.is(sourceKindFor({ repoUrl: 'file:///srv/git/vpc' }), 'git');
  assert.is(sourceKindFor({ repoUrl: 'https://github.com/acme/vpc', source: 'git' }), 'git');
  assert.is(sourceKindFor({ repoUrl: 'https://git.example.com/acme/vpc', source: 'github' }), 'github');
});

test('createModuleSource makes the source of each kind with its options', () => {
  assert.instance(createModuleSource('github', { github: { baseUrl: 'http://127.0.0.1:1' } }), GithubArchiveSource);
  assert.instance(createModuleSource('git', { git: { allowFileUrls: true } }), GitArchiveSource);
  assert.throws(() => createModuleSource('svn' as never), /unknown module source svn/);
});

test('moduleArchiveSubject carries moduleConfig, the GitHub client config and the namespace', () => {
  const subject = moduleArchiveSubject(
    { name: 'terraform-aws-vpc', provider: 'aws', repoOwner: 'acme', repoUrl: 'https://github.com/acme/terraform-aws-vpc' },
    { namespace: 'team-a', githubClientConfig: { useAuthenticatedClient: true, secretRef: { name: 'gh' } } },
  );
  assert.equal(subject, {
    kind: 'module',
    name: 'terraform-aws-vpc',
    namespace: 'acme',
    system: 'aws',
    url: 'https://github.com/acme/terraform-aws-vpc',
    settings: {
      repoOwner: 'acme',
      repoUrl: 'https://github.com/acme/terraform-aws-vpc',
      githubClientConfig: { useAuthenticatedClient: true, secretRef: { name: 'gh' } },
      namespace: 'team-a',
    },
  });
  // Settings from a resource are read defensively.
  assert.equal(subjectSettings({ kind: 'module', name: 'x', settings: { repoUrl: 7, githubClientConfig: { useAuthenticatedClient: 'yes' } } }), {
    githubClientConfig: { useAuthenticatedClient: false },
  });
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
