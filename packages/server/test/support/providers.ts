/**
 * Provider fixtures: real provider zips (testbed's builder), their hashes computed here
 * independently of the operator (h1 the way Go's dirhash.HashZip does, via the `unzip` CLI), and
 * the provider Version resources the operator would write for them.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { providerStorageKey, type StorageConfig, type Version } from '@opendepot/core';
import type { StorageBackend } from '@opendepot/sdk';
import { makeProviderZip } from '@opendepot/testbed';
import { condition, NS } from './fixtures.ts';

const execFileAsync = promisify(execFile);
const API_VERSION = 'opendepot.defdev.io/v1alpha1' as const;

/** One built provider package. */
export interface ProviderPackage {
  type: string;
  version: string;
  os: string;
  arch: string;
  data: Buffer;
  filename: string;
  /** SHA-256 of the zip, hex (= status.checksum, and zh: without its prefix). */
  checksum: string;
  h1: string;
}

/** What the operator records on a Ready provider Version. */
export interface StoredProvider {
  checksum: string;
  size: number;
  storageKey: string;
  h1?: string;
  zh?: string;
  filename?: string;
  protocols?: string[];
}

/** `dirhash.Hash1` over the entries of a zip (every entry name counts): what tofu computes for h1:. */
export async function h1OfZip(path: string): Promise<string> {
  const { stdout } = await execFileAsync('unzip', ['-Z1', path]);
  const names = stdout
    .split('\n')
    .filter((n) => n !== '')
    .sort();
  let summary = '';
  for (const name of names) {
    const { stdout: content } = await execFileAsync('unzip', ['-p', path, name], { encoding: 'buffer', maxBuffer: 1 << 30 });
    summary += `${createHash('sha256').update(content).digest('hex')}  ${name}\n`;
  }
  return `h1:${createHash('sha256').update(summary).digest('base64')}`;
}

/** Builds the zip of `type` `version` for one platform. */
export async function providerPackage(type: string, version: string, os: string, arch: string): Promise<ProviderPackage> {
  const data = await makeProviderZip({ name: type, version, os, arch });
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-provider-zip-'));
  try {
    const path = join(dir, 'package.zip');
    await writeFile(path, data);
    return {
      type,
      version,
      os,
      arch,
      data,
      filename: `terraform-provider-${type}_${version}_${os}_${arch}.zip`,
      checksum: createHash('sha256').update(data).digest('hex'),
      h1: await h1OfZip(path),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The storage key the operator derives (the server serves no other); `owner` is the Provider's name, default the type. */
export function providerKey(namespace: string, pkg: Pick<ProviderPackage, 'type' | 'version' | 'os' | 'arch'>, owner = pkg.type): string {
  return providerStorageKey(namespace, owner, pkg.version, `terraform-provider-${pkg.type}_${pkg.version}_${pkg.os}_${pkg.arch}.zip`);
}

/** Stores a package and returns what the operator would record for it. */
export async function storeProvider(storage: StorageBackend, namespace: string, pkg: ProviderPackage, owner?: string): Promise<StoredProvider> {
  const key = providerKey(namespace, pkg, owner);
  const info = await storage.put(
    key,
    (async function* () {
      yield pkg.data;
    })(),
  );
  return { checksum: info.sha256, size: info.size, storageKey: key, h1: pkg.h1, zh: `zh:${info.sha256}`, filename: pkg.filename, protocols: ['5.0'] };
}

type Conditions = NonNullable<NonNullable<Version['status']>['conditions']>;

/** Options of {@link providerVersionResource}. */
export interface ProviderVersionOptions {
  type: string;
  version: string;
  os: string;
  arch: string;
  /** Kubernetes namespace; default {@link NS}. */
  namespace?: string;
  /** The owning Provider's name; default `type`. */
  owner?: string;
  /** Upstream coordinates (spec.provider); default hashicorp from the HashiCorp Releases API. */
  upstream?: { namespace?: string; source?: 'hashicorp-releases' | 'registry'; registryUrl?: string };
  /** Present: Ready with this record; absent: still fetching. */
  stored?: StoredProvider;
  conditions?: Conditions;
  storageConfig?: StorageConfig;
  name?: string;
}

/** A provider Version resource, as the Provider controller writes it. */
export function providerVersionResource(options: ProviderVersionOptions): Version {
  const namespace = options.namespace ?? NS;
  const owner = options.owner ?? options.type;
  const ready = options.stored !== undefined;
  return {
    apiVersion: API_VERSION,
    kind: 'Version',
    metadata: {
      name: options.name ?? `${owner}-${options.version.replace(/[.+]/g, '-')}-${options.os}-${options.arch}`,
      namespace,
      uid: `uid-${namespace}-${owner}-${options.version}-${options.os}-${options.arch}`,
    },
    spec: {
      kind: 'Provider',
      ownerName: owner,
      version: options.version,
      operatingSystem: options.os as never,
      architecture: options.arch as never,
      provider: { name: options.type, ...options.upstream },
      fileFormat: 'zip',
      storageConfig: options.storageConfig ?? { filesystem: { path: '/data' } },
    },
    status: {
      conditions: options.conditions ?? (ready ? [condition('Ready', 'True', 'ArchiveStored', 'stored and verified')] : [condition('Ready', 'False', 'Fetching', 'fetching the archive')]),
      ...(options.stored ?? {}),
    },
  };
}
