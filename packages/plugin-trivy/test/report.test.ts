/** Reading trivy's JSON report: which entries are findings, and how fields map. */
import { isOpenDepotError } from '@opendepot/sdk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findingsOf } from '../src/report.ts';

test('failed checks, vulnerabilities and secrets are findings; passed checks are not', () => {
  const report = {
    SchemaVersion: 2,
    Results: [
      {
        Target: 'main.tf',
        Misconfigurations: [
          {
            ID: 'AWS-0107',
            AVDID: 'AVD-AWS-0107',
            Title: 'open ingress',
            Severity: 'CRITICAL',
            PrimaryURL: 'https://avd.aquasec.com/misconfig/avd-aws-0107',
            Status: 'FAIL',
            CauseMetadata: { StartLine: 10 },
          },
          { ID: 'AWS-0124', AVDID: 'AVD-AWS-0124', Title: 'described', Severity: 'LOW', Status: 'PASS' },
        ],
      },
      {
        Target: 'go.sum',
        Vulnerabilities: [
          { VulnerabilityID: 'CVE-2024-1', PkgName: 'golang.org/x/net', InstalledVersion: 'v0.6.0', FixedVersion: '0.7.0', Title: 'a bug', Severity: 'high' },
          { VulnerabilityID: 'CVE-2024-2', PkgName: 'golang.org/x/net', InstalledVersion: 'v0.6.0', Title: 'no fix yet', Severity: 'LOW' },
        ],
      },
      { Target: 'creds.tf', Secrets: [{ RuleID: 'aws-access-key-id', Title: 'AWS Access Key ID', Severity: 'whatever', StartLine: 3 }] },
      { Target: 'empty.tf', Misconfigurations: null },
    ],
  };
  assert.equal(findingsOf(JSON.stringify(report)), [
    { id: 'AVD-AWS-0107', severity: 'CRITICAL', title: 'open ingress', target: 'main.tf:10', url: 'https://avd.aquasec.com/misconfig/avd-aws-0107' },
    { id: 'CVE-2024-1', severity: 'HIGH', title: 'a bug', target: 'go.sum: golang.org/x/net', pkg: 'golang.org/x/net', installedVersion: 'v0.6.0', fixedVersion: '0.7.0' },
    { id: 'CVE-2024-2', severity: 'LOW', title: 'no fix yet', target: 'go.sum: golang.org/x/net', pkg: 'golang.org/x/net', installedVersion: 'v0.6.0' },
    { id: 'aws-access-key-id', severity: 'UNKNOWN', title: 'AWS Access Key ID', target: 'creds.tf:3' },
  ]);
});

test('a report without results has no findings; output that is not a report is an input error', () => {
  assert.equal(findingsOf(JSON.stringify({ SchemaVersion: 2, ArtifactName: 'x' })), []);
  for (const bad of ['', 'not json', '[]', '{"Results":[]}']) {
    let err: unknown;
    try {
      findingsOf(bad);
    } catch (e) {
      err = e;
    }
    assert.ok(isOpenDepotError(err, 'input'), `${JSON.stringify(bad)}: ${String(err)}`);
  }
});

test.run();
