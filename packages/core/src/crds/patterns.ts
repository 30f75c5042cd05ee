/**
 * Regular expressions the CRD schemas enforce. They run in the API server (Go RE2) and in
 * JavaScript alike, so they avoid look-arounds, back-references and POSIX classes.
 */

const VERSION_BODY = '[0-9]+(\\.[0-9]+){0,2}(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?';

/** A release version: `1.2.3`, `v1.2.3`, `1.2`, `1.2.3-rc.1+build.5`. */
export const VERSION_PATTERN = `^v?${VERSION_BODY}$`;

const CONSTRAINT = `\\s*(=|!=|>=|<=|>|<|~>)?\\s*v?${VERSION_BODY}\\s*`;

/** OpenTofu/Terraform version constraints: comma-separated `op version` clauses, e.g. `>= 1.2, < 2.0`. */
export const VERSION_CONSTRAINTS_PATTERN = `^${CONSTRAINT}(,${CONSTRAINT})*$`;

/** A Go-style duration made of whole or decimal hours, minutes, seconds, milliseconds: `15m`, `1h30m`. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

/** A SHA-256 digest as lowercase hex. */
export const SHA256_HEX_PATTERN = '^[a-f0-9]{64}$';

/** The provider `h1:` hash (base64 SHA-256 over the package contents). */
export const H1_HASH_PATTERN = '^h1:[A-Za-z0-9+/]{43}=$';

/** The provider `zh:` hash (hex SHA-256 of the zip). */
export const ZH_HASH_PATTERN = '^zh:[a-f0-9]{64}$';

/** A module name or an upstream namespace in a registry address (as the registry protocol allows). */
export const REGISTRY_NAME_PATTERN = '^[0-9A-Za-z]([0-9A-Za-z_-]{0,62}[0-9A-Za-z])?$';

/** The target system of a module (`aws`, `azurerm`): lowercase letters and digits. */
export const MODULE_PROVIDER_PATTERN = '^[0-9a-z]{1,64}$';

/** A provider type (`aws`, `google-beta`). */
export const PROVIDER_TYPE_PATTERN = '^[0-9a-z]([0-9a-z-]{0,62}[0-9a-z])?$';

/** A GitHub user or organisation. */
export const GITHUB_OWNER_PATTERN = '^[A-Za-z0-9]([A-Za-z0-9-]{0,38})$';

/** A Kubernetes object name (DNS subdomain). */
export const OBJECT_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** Where a module's source lives: `https://…`, `file://…`, `ssh://…` or scp-like `git@host:owner/repo.git`. */
export const REPO_URL_PATTERN = '^(https://\\S+|file://\\S+|ssh://\\S+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\\S+)$';

/** An HTTP(S) URL. */
export const HTTP_URL_PATTERN = '^https?://\\S+$';

/** An HTTPS URL. */
export const HTTPS_URL_PATTERN = '^https://\\S+$';

/**
 * A GroupBinding resource glob: name characters and the wildcards `*`, `?` and `[...]` classes
 * (no braces, extglobs, slashes or escapes). The controller checks the rest (closed classes, a
 * bounded number of `*`).
 */
export const RESOURCE_GLOB_PATTERN = '^[A-Za-z0-9._*?!^\\[\\]-]+$';

/** The name of an archive source (a plugin of kind archive-source): a DNS label, e.g. `github` or `gitlab`. */
export const SOURCE_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
