/**
 * Reads kubeconfig files and merges them the way kubectl does (`KUBECONFIG=a:b`): for each named
 * cluster, user and context, and for `current-context`, the first file that sets it wins; files
 * that do not exist are skipped. File paths inside a file are made absolute against its directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';

/** A named entry of `clusters`, `users` or `contexts`, as written in the file. */
export interface NamedEntry<T> {
  name: string;
  value: T;
}

/** The fields of a `cluster` entry. */
export type KubeconfigCluster = Record<string, unknown> & {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
};

/** The fields of a `user` entry. */
export type KubeconfigUser = Record<string, unknown> & {
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
};

/** The fields of a `context` entry. */
export interface KubeconfigContext {
  cluster?: string;
  user?: string;
  namespace?: string;
}

/** Kubeconfig files merged into one. */
export interface MergedKubeconfig {
  /** The files read, in order. */
  files: string[];
  currentContext?: string;
  clusters: Map<string, KubeconfigCluster>;
  users: Map<string, KubeconfigUser>;
  contexts: Map<string, KubeconfigContext>;
}

/** Fields that name a file, resolved against the directory of the kubeconfig that holds them. */
const PATH_FIELDS = ['certificate-authority', 'client-certificate', 'client-key', 'tokenFile'];

function absolutePaths<T extends Record<string, unknown>>(entry: T, dir: string): T {
  const out: Record<string, unknown> = { ...entry };
  for (const field of PATH_FIELDS) {
    const value = out[field];
    if (typeof value === 'string' && value !== '' && !isAbsolute(value)) out[field] = resolve(dir, value);
  }
  return out as T;
}

function entriesOf(doc: Record<string, unknown>, list: string, field: string, file: string): Array<NamedEntry<Record<string, unknown>>> {
  const raw = doc[list];
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new Error(`${file}: \`${list}\` must be a list`);
  return raw.map((item: { name?: unknown; [key: string]: unknown }, i) => {
    if (typeof item?.name !== 'string' || item.name === '') throw new Error(`${file}: ${list}[${i}] needs a \`name\``);
    const value = item[field];
    return { name: item.name, value: typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {} };
  });
}

/** Parses one kubeconfig document; throws naming the file when it is not one. */
function parseFile(file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not a readable kubeconfig: ${(err as Error).message}`, { cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file} is not a kubeconfig (expected a YAML mapping)`);
  return doc as Record<string, unknown>;
}

/**
 * Reads and merges `files`. With more than one file (a `KUBECONFIG` list), missing ones are
 * skipped as kubectl does; a single named file must exist.
 */
export function readKubeconfigFiles(files: readonly string[]): MergedKubeconfig {
  const present = files.length === 1 ? [...files] : files.filter((file) => existsSync(file));
  if (present.length === 0) throw new Error(`none of the kubeconfig files exists: ${files.join(', ')}`);
  const merged: MergedKubeconfig = { files: present, clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const file of present) {
    const doc = parseFile(file);
    const dir = dirname(resolve(file));
    const current = doc['current-context'];
    if (merged.currentContext === undefined && typeof current === 'string' && current !== '') merged.currentContext = current;
    for (const { name, value } of entriesOf(doc, 'clusters', 'cluster', file)) if (!merged.clusters.has(name)) merged.clusters.set(name, absolutePaths(value, dir));
    for (const { name, value } of entriesOf(doc, 'users', 'user', file)) if (!merged.users.has(name)) merged.users.set(name, absolutePaths(value, dir));
    for (const { name, value } of entriesOf(doc, 'contexts', 'context', file)) if (!merged.contexts.has(name)) merged.contexts.set(name, value as KubeconfigContext);
  }
  return merged;
}

/** The merged configuration as one kubeconfig document (JSON is YAML), for a loader that takes one. */
export function kubeconfigDocument(merged: MergedKubeconfig, currentContext: string): string {
  const list = <T>(map: Map<string, T>, field: string) => [...map].map(([name, value]) => ({ name, [field]: value }));
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': currentContext,
    clusters: list(merged.clusters, 'cluster'),
    users: list(merged.users, 'user'),
    contexts: list(merged.contexts, 'context'),
  });
}
