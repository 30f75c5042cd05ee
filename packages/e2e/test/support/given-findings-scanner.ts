/**
 * A scanner plugin for tests, loaded by the operator from `plugins: [{ path }]` like any other:
 * it scans providers only and answers each scan with the findings a JSON file gives for the
 * provider's name (read at every scan), or fails when the file says "fail". The real-Trivy tests
 * scan real binaries; this one lets a test choose the findings exactly.
 */
import { readFile } from 'node:fs/promises';
import { definePlugin, PLUGIN_API_VERSION, UnavailableError, type Finding, type ScanTarget } from '@opendepot/sdk';

/** What the file holds: provider name → its findings, or "fail". */
export type GivenFindings = Record<string, (Finding & { pkg?: string; installedVersion?: string; fixedVersion?: string })[] | 'fail'>;

export default definePlugin({
  kind: 'scanner',
  name: 'given-findings',
  apiVersion: PLUGIN_API_VERSION,
  configSchema: { type: 'object', required: ['file'], additionalProperties: false, properties: { file: { type: 'string' } } },
  async create(config: { file: string }) {
    return {
      targets: ['provider'] as const,
      async scan(target: ScanTarget) {
        const given = JSON.parse(await readFile(config.file, 'utf8')) as GivenFindings;
        const findings = given[target.name] ?? [];
        if (findings === 'fail') throw new UnavailableError('the vulnerability database is missing (given-findings test scanner)');
        return { scanner: 'given-findings 1.0.0', findings };
      },
    };
  },
});
