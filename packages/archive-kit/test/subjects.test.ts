import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { moduleArchiveSubject, providerArchiveSubject, subjectSettings } from '../src/index.ts';

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

test('providerArchiveSubject carries the type, the upstream namespace and registry, and the source name', () => {
  assert.equal(providerArchiveSubject({ name: 'aws', namespace: 'hashicorp', source: 'registry', registryUrl: 'https://registry.example.com' }), {
    kind: 'provider',
    name: 'aws',
    namespace: 'hashicorp',
    url: 'https://registry.example.com',
    settings: { source: 'registry' },
  });
  // Unset fields stay unset: each source applies its own defaults.
  assert.equal(providerArchiveSubject({ name: 'aws' }), { kind: 'provider', name: 'aws', settings: {} });
});

test.run();
