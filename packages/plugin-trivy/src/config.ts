/** The plugin's configuration (`plugins[i].config`) and its JSON Schema. */
import type { JsonSchema } from '@opendepot/sdk';

/** Configuration of the Trivy scanner. */
export interface TrivyScannerConfig {
  /** The trivy executable: a path, or a name looked up on PATH. Default `trivy`. */
  binary?: string;
  /** A scan that runs longer is stopped and fails. Default 300. */
  timeoutSeconds?: number;
  /**
   * Trivy's cache directory. Provider scans read the vulnerability database from `<cacheDir>/db`.
   * Default `<os temp dir>/opendepot-trivy-cache`.
   */
  cacheDir?: string;
  /**
   * An OCI repository of the trivy vulnerability database (a mirror the user runs). Only when set
   * does trivy download the database; otherwise `cacheDir` must hold it already.
   */
  dbRepository?: string;
  /** PEM file of the CA(s) that sign `dbRepository`'s certificate (an internal mirror), trusted besides the system's. */
  dbRepositoryCaFile?: string;
  /** Skip verifying `dbRepository`'s certificate and allow plain HTTP (trivy `--insecure`): for a mirror without TLS. */
  dbRepositoryInsecure?: boolean;
  /** Scans run at once; the others wait. Default 1 (each trivy process takes ~200 MB). */
  maxConcurrentScans?: number;
}

/** JSON Schema (draft-07) of {@link TrivyScannerConfig}; the host validates config against it. */
export const configSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'trivy scanner',
  description:
    'Runs `trivy config` on every module and a vulnerability scan (`trivy rootfs`/`trivy fs`) on every provider package or source tree before it is stored; the findings go into the status and, with the operator scanning policy, can keep a version out of the registry.',
  type: 'object',
  additionalProperties: false,
  properties: {
    binary: {
      type: 'string',
      description: 'The trivy executable: an absolute path, or a name looked up on PATH. Checked at start-up with `trivy --version`.',
      minLength: 1,
      maxLength: 4096,
      default: 'trivy',
    },
    timeoutSeconds: {
      type: 'integer',
      description: 'Longest a single scan may run before it is stopped and counted as failed (the Version is retried with backoff).',
      minimum: 10,
      maximum: 3600,
      default: 300,
    },
    cacheDir: {
      type: 'string',
      description:
        "Absolute path of trivy's cache directory (checks bundle, scan cache, and the vulnerability database in db/ that provider scans need). Without dbRepository it must be pre-populated (e.g. a PVC a CronJob refreshes). Default: a directory under the OS temp dir.",
      pattern: '^/',
      maxLength: 4096,
    },
    dbRepository: {
      type: 'string',
      description:
        'OCI repository of the trivy vulnerability database, e.g. registry.example.com/mirror/trivy-db:2 (a mirror you run), passed as --db-repository: only then does trivy download the database into cacheDir when it is missing or stale.',
      minLength: 1,
      maxLength: 1024,
      pattern: '^[^\\s]+$',
    },
    dbRepositoryCaFile: {
      type: 'string',
      description:
        "Absolute path of a PEM file with the CA certificate(s) that sign dbRepository's TLS certificate (an internal mirror), passed as --cacert: trusted in addition to the system's CAs. Mount it from a ConfigMap or Secret.",
      pattern: '^/',
      maxLength: 4096,
    },
    dbRepositoryInsecure: {
      type: 'boolean',
      description: "Passed as --insecure: trivy neither verifies dbRepository's certificate nor insists on HTTPS. Only for a mirror without TLS on a network you trust; prefer dbRepositoryCaFile.",
      default: false,
    },
    maxConcurrentScans: {
      type: 'integer',
      description: "Scans that run at once; the others wait. Each trivy process takes about 200 MB, which counts against the operator pod's memory limit.",
      minimum: 1,
      maximum: 32,
      default: 1,
    },
  },
};
