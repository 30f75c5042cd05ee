/** `spec.scanning`: a Module's, Provider's or Depot entry's own scan policy, over the operator's. */
import { array, enumeration, object, string, type Static } from './schema.ts';

/** Scan severities, in increasing order (the SDK's Severity). */
export const SEVERITIES = ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;

/** The fields that name a finding in status: a vulnerability in one package version. */
export const findingFields = {
  id: string('The finding, e.g. CVE-2022-32149.', { maxLength: 128 }),
  severity: enumeration('Its severity.', SEVERITIES),
  pkg: string('The package it is in, e.g. golang.org/x/text.', { maxLength: 256 }),
  installedVersion: string('The version of the package that has it.', { maxLength: 128 }),
  fixedVersion: string('The first version without it, when known.', { maxLength: 256 }),
};

/** One exemption: a finding that does not block until it expires. */
export const scanIgnoreSchema = object(
  'A finding that does not block until expires. Both expires and reason are required, so an exemption cannot live forever or without a why.',
  {
    id: string('The finding to exempt, e.g. CVE-2022-32149.', { minLength: 1, maxLength: 128 }),
    expires: string('When the exemption ends (RFC 3339 date-time, e.g. 2027-01-31T00:00:00Z); from then on the finding blocks again, without any other change.', {
      format: 'date-time',
    }),
    reason: string('Why the finding is accepted until then, e.g. not reachable from the provider code.', { minLength: 1, maxLength: 1024 }),
  },
  { required: ['id', 'expires', 'reason'] },
);

/** `spec.scanning` of a Module, a Provider, a Depot entry and (copied) a Version. */
export const scanningSpecSchema = object('Scan policy of this resource; unset fields use the operator default (operator.scanning).', {
  blockSeverities: array(
    'Findings of these severities keep an archive out of the registry (Stalled, ScanBlocked); replaces operator.scanning.blockSeverities. An empty list blocks nothing.',
    enumeration('A severity: UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL.', SEVERITIES),
    { maxItems: SEVERITIES.length, listType: 'set' },
  ),
  ignore: array('Findings that do not block until their expires date.', scanIgnoreSchema, { maxItems: 200 }),
});

export type ScanningSpec = Static<typeof scanningSpecSchema>;
export type ScanIgnore = Static<typeof scanIgnoreSchema>;
