/** Turns the kind definitions into CustomResourceDefinition objects and YAML. */
import { stringify } from 'yaml';
import { depotKind } from './depot.ts';
import { groupBindingKind } from './groupbinding.ts';
import { moduleKind } from './module.ts';
import { providerKind } from './provider.ts';
import { CATEGORY, GROUP, VERSION, type KindDefinition } from './resource.ts';
import type { JsonSchemaProps } from './schema.ts';
import { versionKind } from './version.ts';

/** Every OpenDepot kind, in the order the chart lists them. */
export const KINDS: readonly KindDefinition[] = [moduleKind, versionKind, providerKind, depotKind, groupBindingKind];

/** The root schema of a kind: the standard object fields plus its spec and status. */
export function rootSchema(def: KindDefinition): JsonSchemaProps {
  return {
    type: 'object',
    description: def.description,
    properties: {
      apiVersion: {
        type: 'string',
        description: 'Versioned schema of this representation of an object: opendepot.defdev.io/v1alpha1.',
      },
      kind: { type: 'string', description: `Kind of this object: ${def.kind}.` },
      // The API server owns metadata's schema; a CRD may only say that it is an object.
      metadata: { type: 'object' },
      spec: def.spec.json,
      status: def.status.json,
    },
    required: ['spec'],
  };
}

/** The CustomResourceDefinition of a kind, as a plain object. */
export function crdObject(def: KindDefinition): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'opendepot' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: rootSchema(def) },
        },
      ],
    },
  };
}

const HEADER = '# Generated from packages/core/src/crds by `npm run gen:crds`. Do not edit by hand.\n';

/** The file name of a kind's CRD in `charts/opendepot/crds/`. */
export function crdFileName(def: KindDefinition): string {
  return `${def.plural}.${GROUP}.yaml`;
}

/** The YAML text of a kind's CRD. */
export function renderCrd(def: KindDefinition): string {
  // YAML 1.1 quoting, because the API server's YAML parser reads `on`, `yes` and friends as booleans.
  return HEADER + stringify(crdObject(def), { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false });
}

/** Every CRD: file name → YAML text, as `npm run gen:crds` writes them to `charts/opendepot/crds/`. */
export function renderCrds(): Map<string, string> {
  return new Map(KINDS.map((def) => [crdFileName(def), renderCrd(def)]));
}
