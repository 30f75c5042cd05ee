/**
 * Typed create/read/update/delete of one kind: JSON merge patches (with an optional
 * resourceVersion precondition), server-side apply with a field manager, the status subresource,
 * and finalizers. Failures are the SDK's errors (see `errors.ts`).
 */
import { NotFoundError } from '@opendepot/sdk';
import type { KubeClient } from './client.ts';
import { isConflict, isNotFound } from './errors.ts';
import { apiVersionOf, resourcePath } from './resources.ts';
import type { KubeObject, ResourceRef } from './types.ts';

/** A JSON merge patch (RFC 7386) of `T`: any subset of fields, `null` deletes one. Arrays are replaced whole. */
export type MergePatch<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: MergePatch<T[K]> | null } : T;

/** Content types of PATCH requests. */
export const PATCH_TYPES = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/** Options of every write. */
export interface WriteOptions {
  signal?: AbortSignal;
  /** Overrides the client's field manager for this write. */
  fieldManager?: string;
  /** `All` to validate without persisting. */
  dryRun?: 'All';
}

/** Options of a list. */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Objects per page ({@link DEFAULT_LIST_PAGE_SIZE} when unset); 0 lists everything in one answer. */
  pageSize?: number;
  signal?: AbortSignal;
}

/** Objects per list page unless a caller asks otherwise. */
export const DEFAULT_LIST_PAGE_SIZE = 500;

/** A list answer: the items and the collection's resourceVersion. */
export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

/** Options of a merge patch. */
export interface PatchOptions extends WriteOptions {
  /** Precondition: fail with a ConflictError unless the object still has this resourceVersion. */
  resourceVersion?: string;
}

/** Options of server-side apply. */
export interface ApplyOptions extends WriteOptions {
  /** Take over fields another manager owns instead of failing with a ConflictError. */
  force?: boolean;
}

/** Options of a delete. */
export interface DeleteOptions {
  signal?: AbortSignal;
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  /** Delete only if the object is still this one (uid) at this version. */
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** Typed access to one kind. */
export interface ResourceClient<T extends KubeObject> {
  readonly ref: ResourceRef;
  /** The object; NotFoundError when it does not exist. */
  get(namespace: string | undefined, name: string, options?: { signal?: AbortSignal }): Promise<T>;
  /** The object, or undefined when it does not exist. */
  find(namespace: string | undefined, name: string, options?: { signal?: AbortSignal }): Promise<T | undefined>;
  /** Every object (of one namespace, or of all), following `continue` tokens. */
  list(namespace?: string, options?: ListOptions): Promise<ListResult<T>>;
  /** Creates `obj` (`apiVersion` and `kind` filled in); ConflictError (reason AlreadyExists) when the name is taken. */
  create(obj: T, options?: WriteOptions): Promise<T>;
  /** Replaces the whole object (PUT); its `metadata.resourceVersion` makes it conditional. */
  replace(obj: T, options?: WriteOptions): Promise<T>;
  /** Applies a JSON merge patch to the object (not its status). */
  patch(namespace: string | undefined, name: string, patch: MergePatch<T>, options?: PatchOptions): Promise<T>;
  /**
   * Server-side apply: the fields of `obj` become owned by the field manager; fields the manager
   * set before and left out now are removed. `apiVersion` and `kind` are filled in.
   */
  apply(obj: MergePatch<T> & { metadata: { name?: string; namespace?: string } }, options?: ApplyOptions): Promise<T>;
  /** Applies a JSON merge patch `{status}` through the status subresource. */
  patchStatus(namespace: string | undefined, name: string, status: MergePatch<NonNullable<T['status']>>, options?: PatchOptions): Promise<T>;
  /** Deletes the object; resolves false when it did not exist. */
  delete(namespace: string | undefined, name: string, options?: DeleteOptions): Promise<boolean>;
  /** Adds `finalizer` unless present; retries on a concurrent change. */
  addFinalizer(obj: T, finalizer: string, options?: { signal?: AbortSignal }): Promise<T>;
  /** Removes `finalizer` if present; retries on a concurrent change. Resolves undefined when the object is gone. */
  removeFinalizer(obj: T, finalizer: string, options?: { signal?: AbortSignal }): Promise<T | undefined>;
}

/** Options of {@link resourceClient}. */
export interface ResourceClientOptions {
  /** Recorded in `managedFields` for every write, e.g. `opendepot-operator`. */
  fieldManager?: string;
}

const FINALIZER_ATTEMPTS = 5;

/** Typed CRUD of the kind `ref` through `client`. */
export function resourceClient<T extends KubeObject>(client: KubeClient, ref: ResourceRef, clientOptions: ResourceClientOptions = {}): ResourceClient<T> {
  const apiVersion = apiVersionOf(ref);
  const writeQuery = (o: WriteOptions = {}) => ({ fieldManager: o.fieldManager ?? clientOptions.fieldManager, dryRun: o.dryRun });
  const withKind = <O extends { apiVersion?: unknown; kind?: unknown }>(obj: O): O => ({ ...obj, apiVersion, kind: ref.kind });

  const self: ResourceClient<T> = {
    ref,
    get(namespace, name, options = {}) {
      return client.request<T>({ path: resourcePath(ref, namespace, name), signal: options.signal });
    },
    async find(namespace, name, options = {}) {
      try {
        return await self.get(namespace, name, options);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async list(namespace, options = {}) {
      const items: T[] = [];
      let continueToken: string | undefined;
      let resourceVersion = '';
      const pageSize = options.pageSize ?? DEFAULT_LIST_PAGE_SIZE;
      do {
        const page = await client.request<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>({
          path: resourcePath(ref, namespace),
          query: { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit: pageSize > 0 ? pageSize : undefined, continue: continueToken },
          signal: options.signal,
        });
        // List items come without apiVersion/kind; restore them so objects look the same everywhere.
        for (const item of page.items ?? []) items.push(withKind(item));
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
        continueToken = page.metadata?.continue || undefined;
      } while (continueToken);
      return { items, resourceVersion };
    },
    create(obj, options = {}) {
      return client.request<T>({
        method: 'POST',
        path: resourcePath(ref, obj.metadata.namespace),
        query: writeQuery(options),
        body: withKind(obj),
        signal: options.signal,
      });
    },
    replace(obj, options = {}) {
      return client.request<T>({
        method: 'PUT',
        path: resourcePath(ref, obj.metadata.namespace, obj.metadata.name),
        query: writeQuery(options),
        body: withKind(obj),
        signal: options.signal,
      });
    },
    patch(namespace, name, patch, options = {}) {
      return client.request<T>({
        method: 'PATCH',
        path: resourcePath(ref, namespace, name),
        query: writeQuery(options),
        body: withPrecondition(patch as object, options.resourceVersion),
        contentType: PATCH_TYPES.merge,
        signal: options.signal,
      });
    },
    apply(obj, options = {}) {
      const fieldManager = options.fieldManager ?? clientOptions.fieldManager;
      if (!fieldManager) throw new Error(`server-side apply of ${ref.kind} needs a field manager`);
      return client.request<T>({
        method: 'PATCH',
        path: resourcePath(ref, obj.metadata.namespace, obj.metadata.name),
        query: { fieldManager, force: options.force, dryRun: options.dryRun },
        // JSON is YAML, so the apply content type takes the JSON body as it is.
        body: withKind(obj as { apiVersion?: unknown; kind?: unknown }),
        contentType: PATCH_TYPES.apply,
        signal: options.signal,
      });
    },
    patchStatus(namespace, name, status, options = {}) {
      return client.request<T>({
        method: 'PATCH',
        path: resourcePath(ref, namespace, name, 'status'),
        query: writeQuery(options),
        body: withPrecondition({ status }, options.resourceVersion),
        contentType: PATCH_TYPES.merge,
        signal: options.signal,
      });
    },
    async delete(namespace, name, options = {}) {
      const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
      if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
      if (options.preconditions) body.preconditions = options.preconditions;
      try {
        await client.request({ method: 'DELETE', path: resourcePath(ref, namespace, name), body, signal: options.signal });
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },
    async addFinalizer(obj, finalizer, options = {}) {
      const updated = await editFinalizers(self, obj, options.signal, (list) => (list.includes(finalizer) ? undefined : [...list, finalizer]));
      if (updated === undefined) throw new NotFoundError(`${ref.kind} ${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''} no longer exists`);
      return updated;
    },
    removeFinalizer(obj, finalizer, options = {}) {
      return editFinalizers(self, obj, options.signal, (list) => (list.includes(finalizer) ? list.filter((f) => f !== finalizer) : undefined));
    },
  };
  return self;
}

function withPrecondition(patch: object, resourceVersion: string | undefined): object {
  if (resourceVersion === undefined) return patch;
  const metadata = (patch as { metadata?: object }).metadata ?? {};
  return { ...patch, metadata: { ...metadata, resourceVersion } };
}

/**
 * Changes the finalizer list with a resourceVersion precondition, so a finalizer another
 * controller adds at the same moment is never lost; on a conflict it rereads and tries again.
 * `edit` returns undefined when nothing needs to change.
 */
async function editFinalizers<T extends KubeObject>(
  resource: ResourceClient<T>,
  obj: T,
  signal: AbortSignal | undefined,
  edit: (finalizers: string[]) => string[] | undefined,
): Promise<T | undefined> {
  const { namespace, name } = obj.metadata;
  if (!name) throw new Error(`${resource.ref.kind} has no name`);
  let current: T | undefined = obj;
  for (let attempt = 1; ; attempt++) {
    const next = edit(current.metadata.finalizers ?? []);
    if (next === undefined) return current;
    try {
      const patch = { metadata: { finalizers: next } } as MergePatch<T>;
      return await resource.patch(namespace, name, patch, { resourceVersion: current.metadata.resourceVersion, signal });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      if (!isConflict(err) || attempt >= FINALIZER_ATTEMPTS) throw err;
    }
    current = await resource.find(namespace, name, { signal });
    if (current === undefined) return undefined;
  }
}
