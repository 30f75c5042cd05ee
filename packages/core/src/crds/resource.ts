/** What every OpenDepot kind shares: the API group, version, object shape and CRD metadata. */
import type { Schema } from './schema.ts';

/** The API group of every OpenDepot kind. */
export const GROUP = 'opendepot.defdev.io';
/** The served and stored version. */
export const VERSION = 'v1alpha1';
/** `apiVersion` of every OpenDepot object. */
export const API_VERSION = `${GROUP}/${VERSION}` as const;
/** The `kubectl get <category>` that lists every OpenDepot kind. */
export const CATEGORY = 'opendepot';

/** The metadata fields OpenDepot code reads or writes, in their JSON (wire) form. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }[];
}

/** An OpenDepot object of kind `K`. */
export interface Resource<K extends string, Spec, Status> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}

/** A column of `kubectl get`. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  /** 0 shows in the default view, 1 only with `-o wide`. */
  priority?: number;
}

/** Everything the generator needs to know about one kind. */
export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  /** Shown by `kubectl explain <kind>`. */
  description: string;
  spec: Schema<unknown>;
  status: Schema<unknown>;
  printerColumns: readonly PrinterColumn[];
}

/** The Ready column every kind with conditions shows. */
export const readyColumn: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Status of the Ready condition.',
};

/** The Integrity column of Modules and Providers. */
export const integrityColumn: PrinterColumn = {
  name: 'Integrity',
  type: 'string',
  jsonPath: '.status.integrity',
  description: 'Verified, or the first integrity problem of the Versions (UpstreamChanged, VerificationFailed, ChecksumMismatch) and its versions.',
};

/** The Age column. */
export const ageColumn: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since the object was created.',
};
