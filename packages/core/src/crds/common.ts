/** Schema pieces shared by several kinds: secret references, GitHub access, versions, status. */
import { OBJECT_NAME_PATTERN, VERSION_PATTERN } from './patterns.ts';
import { array, boolean, enumeration, integer, object, string, type Static } from './schema.ts';

/**
 * A reference to a Secret, described for where it is used. `scope` says whose namespace it is
 * read from: the resource's own (GitHub credentials, read by the operator only), or OpenDepot's
 * (storage credentials, which the operator and every server replica must both read).
 */
export function secretRef(description: string, scope: 'resource' | 'opendepot' = 'resource') {
  const where =
    scope === 'resource'
      ? "Only Secrets of the resource's own namespace can be referenced."
      : "The Secret is read from the namespace OpenDepot runs in (where the operator and the server can both read it), not from the resource's namespace.";
  return object(`${description} ${where}`, { name: string('Name of the Secret.', { pattern: OBJECT_NAME_PATTERN, maxLength: 253 }) }, { required: ['name'] });
}

/** Default name of the Secret holding GitHub credentials. */
export const DEFAULT_GITHUB_SECRET_NAME = 'opendepot-github-application-secret';

/** `githubClientConfig`: how the operator talks to the GitHub API. */
export const githubClientConfigSchema = object('How the operator calls the GitHub API to list releases and download archives.', {
  useAuthenticatedClient: boolean(
    'Authenticate to GitHub (a GitHub App or a token from secretRef). Required for private repositories and recommended for public ones, because anonymous calls are limited to 60 an hour. Default: false.',
  ),
  secretRef: secretRef(`Secret with either githubAppID, githubInstallID and githubPrivateKey (a GitHub App) or token (a personal access token). Default: ${DEFAULT_GITHUB_SECRET_NAME}.`),
});

/** `githubClientConfig` as TypeScript. */
export type GithubClientConfig = Static<typeof githubClientConfigSchema>;

/** The version string as the schemas validate it. */
export function versionString(description: string) {
  return string(description, { pattern: VERSION_PATTERN, maxLength: 128 });
}

/** `spec.versions` of a Module or Provider. */
export function versionsList(description: string) {
  return array(description, object('One version to serve.', { version: versionString('The version, as tagged upstream: "1.2.3" or "v1.2.3".') }, { required: ['version'] }), {
    maxItems: 2000,
    listType: 'map',
    mapKeys: ['version'],
  });
}

/** Values of `conditions[].status`. */
export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

/** Condition types the controllers set. Specific failure conditions may be added beside them. */
export const ConditionType = {
  /** The resource is fully reconciled and usable (a Version: stored and verified). */
  Ready: 'Ready',
  /** The controller is working on it. */
  Reconciling: 'Reconciling',
  /** The controller cannot make progress without a change from the user. */
  Stalled: 'Stalled',
} as const;

/** One condition, in the standard metav1.Condition shape. */
export const conditionSchema = object(
  'A condition of the resource (the standard Kubernetes metav1.Condition shape).',
  {
    type: string('Type of the condition in CamelCase, e.g. Ready, Reconciling, Stalled.', {
      pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
      maxLength: 316,
    }),
    status: enumeration('Status of the condition: True, False or Unknown.', CONDITION_STATUSES),
    observedGeneration: integer('metadata.generation the condition was set for; older than the current generation means stale.', {
      minimum: 0,
      format: 'int64',
    }),
    lastTransitionTime: string('When the condition last changed from one status to another.', { format: 'date-time' }),
    reason: string("A CamelCase code for the condition's last transition, e.g. ArchiveStored, ChecksumMismatch.", {
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      minLength: 1,
      maxLength: 1024,
    }),
    message: string('A human readable message about the transition.', { maxLength: 32768 }),
  },
  { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
);

/** `status.conditions`. */
export const conditionsSchema = array('Current state of the resource: Ready, Reconciling and Stalled, plus specific failure conditions.', conditionSchema, {
  maxItems: 32,
  listType: 'map',
  mapKeys: ['type'],
});

/** A condition as TypeScript. */
export type Condition = Static<typeof conditionSchema>;

/** Status fields shared by Module, Provider and Depot. */
export const syncStatusFields = {
  observedGeneration: integer('The metadata.generation this status was computed from.', { minimum: 0, format: 'int64' }),
  conditions: conditionsSchema,
  versionsSynced: integer('How many of the wanted Versions are stored and verified.', { minimum: 0, format: 'int64' }),
  versionsTotal: integer('How many Versions are wanted.', { minimum: 0, format: 'int64' }),
  progress: string('versionsSynced/versionsTotal for people, e.g. 7/9.', { maxLength: 64 }),
  synced: boolean('True when every wanted Version is stored and verified. Kept for compatibility with OpenDepot 0.x; prefer the Ready condition.'),
  syncStatus: string('A one-line summary of the last reconcile. Kept for compatibility with OpenDepot 0.x; prefer conditions.', {
    maxLength: 32768,
  }),
};

/** What an owner's `status.integrity` says when none of its Versions has an integrity problem. */
export const INTEGRITY_VERIFIED = 'Verified';

/** Status fields of Modules and Providers: their Versions' integrity problems, rolled up. */
export const integrityStatusFields = {
  integrity: string(
    'Verified when every wanted Version matches what was recorded; otherwise the first problem and its versions, e.g. "UpstreamChanged: 1.0.0" (an immutable version whose upstream archive changed: the stored archive is kept and still served) or "VerificationFailed: 1.1.0/linux_amd64" (refused: never stored, never listed or served). Shown in the Integrity column.',
    { maxLength: 1024 },
  ),
  integrityProblems: array(
    'The Versions with an integrity problem (at most 100): an UpstreamChanged condition, or Stalled for a checksum or signature that does not match.',
    object(
      'One Version with an integrity problem.',
      {
        version: string('The version, with /os_arch for providers, e.g. 1.1.0/linux_amd64.', { maxLength: 160 }),
        reason: string('ImmutableViolation (upstream changed; stored archive kept and served), VerificationFailed or ChecksumMismatch (refused or not served).', { maxLength: 64 }),
        served: boolean('True when the stored archive is still served (an immutable version whose upstream changed).'),
        message: string('What the Version reports.', { maxLength: 1024 }),
      },
      { required: ['version', 'reason'] },
    ),
    { maxItems: 100 },
  ),
};
