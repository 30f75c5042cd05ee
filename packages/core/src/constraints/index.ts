/**
 * The Terraform/OpenTofu version-constraint language (`~> 1.2`, `>= 1.2.0, < 2.0.0`, ...),
 * matched the way `terraform init` and `tofu init` select module and provider versions.
 */
export {
  CONSTRAINT_OPERATORS,
  Constraints,
  filterVersions,
  newestMatching,
  parseConstraints,
  satisfies,
  type ConstraintOperator,
  type VersionConstraint,
} from './constraints.ts';
export {
  compareVersions,
  normalizeVersion,
  parseVersion,
  tryParseVersion,
  VERSION_FORMS,
  type ParsedVersion,
  type VersionParseOptions,
} from './version.ts';
