/** The GroupBinding kind: which OIDC principals may read which modules and providers. */
import { conditionsSchema } from './common.ts';
import { RESOURCE_GLOB_PATTERN } from './patterns.ts';
import { ageColumn, readyColumn, type KindDefinition, type Resource } from './resource.ts';
import { array, integer, object, string, type Static } from './schema.ts';

const resourceGlobs = (what: string) =>
  array(
    `Glob patterns over the names of the ${what} in this namespace that the matched principals may read, e.g. terraform-aws-* or *. Empty grants none.`,
    string('A glob pattern over names: letters, digits, . _ - and the wildcards * and ? and [...] classes (at most 8 *).', {
      minLength: 1,
      maxLength: 253,
      pattern: RESOURCE_GLOB_PATTERN,
    }),
    { maxItems: 256, listType: 'set' },
  );

/** `spec` of a GroupBinding. */
export const groupBindingSpecSchema = object(
  'Grants read access to modules and providers of this namespace to OIDC principals whose token claims satisfy expression.',
  {
    expression: string(
      'A boolean expression over the token\'s claims (groups, email, sub, name, any other claim), e.g. "aws-platform-team" in groups, in expr-eval syntax limited to reading claims: literals, claim names, member access (claim.field, list[0]), == != < <= > >=, in (list membership), and, or, not, ? :, arithmetic. Function calls, assignments, ; and the names constructor, __proto__ and prototype are refused. A claim the token does not carry is null; a principal matches only when the expression evaluates to true.',
      {
        minLength: 1,
        maxLength: 4096,
        rules: [{ rule: "self.trim() != ''", message: 'expression must not be empty or only whitespace' }],
      },
    ),
    moduleResources: resourceGlobs('Modules (their registry names)'),
    providerResources: resourceGlobs('Providers'),
  },
  { required: ['expression'] },
);

/** `status` of a GroupBinding. */
export const groupBindingStatusSchema = object('What the server last observed.', {
  observedGeneration: integer('The metadata.generation this status was computed from.', { minimum: 0, format: 'int64' }),
  conditions: conditionsSchema,
});

export type GroupBindingSpec = Static<typeof groupBindingSpecSchema>;
export type GroupBindingStatus = Static<typeof groupBindingStatusSchema>;
/** A GroupBinding object. */
export type GroupBinding = Resource<'GroupBinding', GroupBindingSpec, GroupBindingStatus>;

/** The GroupBinding kind. */
export const groupBindingKind: KindDefinition = {
  kind: 'GroupBinding',
  plural: 'groupbindings',
  singular: 'groupbinding',
  shortNames: ['odgb'],
  description:
    'Binds OIDC principals (selected by an expression over their token claims) to the modules and providers of this namespace they may read. Access is denied unless some GroupBinding grants it.',
  spec: groupBindingSpecSchema,
  status: groupBindingStatusSchema,
  // Ready: whether the operator found the expression and globs valid (an invalid binding grants nothing).
  printerColumns: [readyColumn, { name: 'Expression', type: 'string', jsonPath: '.spec.expression', description: 'Who this binding applies to.' }, ageColumn],
};
