/**
 * Azure Blob storage end to end, all real: Azurite over HTTPS, the operator and the server
 * loading `@opendepot/plugin-azure` from configuration with credentials from a Kubernetes
 * Secret, and the real `tofu init`. With presign on, the server answers 307 to a SAS URL and
 * tofu downloads from Azurite; with presign off the server proxies; with SAS-token credentials
 * (which cannot sign) and `fallbackToProxy: false`, the download fails with a clear error.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  BlobServiceClient,
  generateAccountSASQueryParameters,
  SASProtocol,
  StorageSharedKeyCredential,
  type ContainerClient,
} from '@azure/storage-blob';
import { createGitRepo, createTestCertificates, runRegistryClient, startAzurite, trustCaInProcess, type Azurite, type ClientRun } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, HOST, startRegistryEnv, type RegistryEnv } from './support/registry-env.ts';
import { archiveGets, assertProxiedAndVerified, moduleFiles, ready, type AccessLine, type Obj } from './support/resources.ts';

const VERSIONS = ['1.1.0', '1.2.0', '1.2.5', '1.3.0'];
const CONTAINER = 'opendepot-e2e';

let azurite: Azurite;
let container: ContainerClient;
let env: RegistryEnv;
/** The registry's CA and Azurite's: tofu talks to both over HTTPS. */
let caBundle: string;

/** The account as the announcement's Azure storageConfig spells it. */
const account = () => ({ accountName: azurite.accountName, accountUrl: azurite.accountUrl, subscriptionID: '00000000-0000-4000-8000-000000000000', resourceGroup: 'opendepot-e2e' });

/** A platform profile with Azurite as the account, credentials from `secret`, and Azurite's host allowed. */
const profile = (secret: string) => ({
  azureBlob: { ...account(), container: CONTAINER, credentialsSecretRef: { name: secret }, allowedEndpointHosts: [new URL(azurite.accountUrl).hostname] },
});

/** A Module's `storageConfig`: a profile, plus the announcement's account fields (equal to the profile's). */
const storageConfig = (secret: string, presign: Record<string, unknown>) => ({
  profile: secret === 'azure-storage' ? 'azurite' : 'azurite-sas',
  azureBlob: account(),
  presign,
});

const moduleManifest = (name: string, repoUrl: string, storage: Record<string, unknown>) => ({
  apiVersion: 'opendepot.defdev.io/v1alpha1',
  kind: 'Module',
  metadata: { name },
  spec: { moduleConfig: { name, provider: 'aws', repoUrl, fileFormat: 'zip', immutable: true }, storageConfig: storage, versions: VERSIONS.map((version) => ({ version })) },
});

const versionsOf = async (module: string) => {
  const r = await env.kubectl(['get', '-n', env.namespace, 'versions', '-l', `opendepot.defdev.io/owner-name=${module}`, '-o', 'json']);
  return (JSON.parse(r.stdout) as { items: Obj[] }).items;
};

const tofuInit = (module: string): Promise<ClientRun> =>
  runRegistryClient('tofu', {
    parentDir: env.dir,
    cliConfig: env.cliConfig,
    caFile: caBundle,
    mainTf: `module "${module}" {\n  source  = "${HOST}/${env.namespace}/${module}/aws"\n  version = "~> 1.2.0"\n}\n`,
  });

/** The server's access-log lines of GETs of `module`'s archives. */

/** Asserts tofu installed 1.2.5 of `module` for `~> 1.2.0`. */
async function assertInstalled(run: ClientRun, module: string): Promise<void> {
  assert.is(run.code, 0, run.output);
  const manifest = JSON.parse(await readFile(join(run.workdir, '.terraform/modules/modules.json'), 'utf8')) as { Modules: { Key: string; Version?: string; Dir: string }[] };
  const entry = manifest.Modules.find((m) => m.Key === module);
  assert.is(entry?.Version, '1.2.5', run.output);
  assert.match(await readFile(join(run.workdir, entry!.Dir, 'main.tf'), 'utf8'), 'value = "1.2.5"');
}

test.before(async () => {
  const certs = await createTestCertificates({ commonName: 'Azurite test CA' });
  trustCaInProcess(certs.caPem); // the operator and the server run in this process
  azurite = await startAzurite({ tls: certs });
  const service = new BlobServiceClient(azurite.accountUrl, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey));
  container = service.getContainerClient(CONTAINER);
  await container.create();

  env = await startRegistryEnv({
    config: {
      plugins: [{ package: '@opendepot/plugin-fs' }, { package: '@opendepot/plugin-azure' }],
      storage: { profiles: { azurite: profile('azure-storage'), 'azurite-sas': profile('azure-storage-sas') } },
    },
  });
  caBundle = join(env.dir, 'ca-bundle.pem');
  await writeFile(caBundle, (await readFile(env.caFile, 'utf8')) + certs.caPem);

  // A SAS token can read and write, but not sign URLs for others.
  const sas = generateAccountSASQueryParameters(
    {
      services: AccountSASServices.parse('b').toString(),
      resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
      permissions: AccountSASPermissions.parse('rwdlc'),
      protocol: SASProtocol.Https,
      expiresOn: new Date(Date.now() + 3600_000),
    },
    new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey),
  ).toString();
  await env.apply(
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'azure-storage' }, type: 'Opaque', stringData: { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'azure-storage-sas' },
      type: 'Opaque',
      stringData: { AZURE_STORAGE_CONNECTION_STRING: `BlobEndpoint=${azurite.accountUrl};SharedAccessSignature=${sas}` },
    },
  );
  const repo = await createGitRepo(join(env.dir, 'azure-repo'), { tags: Object.fromEntries(VERSIONS.map((v) => [`v${v}`, moduleFiles(v, 'Azure Blob Storage')])) });
  await env.apply(
    moduleManifest('presigned', repo.url, storageConfig('azure-storage', { enabled: true, ttl: '5m' })),
    moduleManifest('proxied', repo.url, storageConfig('azure-storage', { enabled: false })),
    moduleManifest('unsignable', repo.url, storageConfig('azure-storage-sas', { enabled: true, fallbackToProxy: false })),
  );
});

test.after(async () => {
  await env?.stop();
  await azurite?.stop();
});

test('the Modules become Ready with 4/4 synced; each archive is a blob in Azurite with its checksum as metadata', async () => {
  for (const name of ['presigned', 'proxied', 'unsignable']) {
    const module = await eventually(
      `Module ${name} Ready`,
      async () => {
        const m = await env.get<Obj>('module', name);
        return ready(m) ? m : undefined;
      },
      120_000,
    );
    assert.is(module.status?.progress, '4/4');
    const versions = await versionsOf(name);
    assert.is(versions.length, 4);
    for (const v of versions) {
      const props = await container.getBlockBlobClient(v.status!.storageKey!).getProperties();
      assert.is(props.metadata?.sha256, v.status?.checksum, `${v.metadata.name}: sha256 metadata`);
      assert.is(props.contentLength, v.status?.size, `${v.metadata.name}: size`);
    }
  }
});

test('presign on: tofu init gets 1.2.5 for "~> 1.2.0" through a 307 to a SAS URL, downloading from Azurite', async () => {
  const run = await tofuInit('presigned');
  await assertInstalled(run, 'presigned');
  const gets = archiveGets(env, 'presigned');
  assert.ok(gets.length > 0, 'the server saw the archive download');
  for (const line of gets) {
    assert.is(line.status, 307, JSON.stringify(line));
    assert.is(line.outcome, 'presigned');
  }
  // Azurite's access log: the archive was fetched from it with a read-only, blob-scoped SAS.
  const [v] = (await versionsOf('presigned')).filter((x) => x.spec.version === '1.2.5');
  const blobPath = `/${azurite.accountName}/${CONTAINER}/${v!.status!.storageKey!}`;
  const fetched = (await readFile(azurite.logFile, 'utf8')).split('\n').filter((l) => l.includes(`"GET ${blobPath}?`) && / 200 /.test(l));
  assert.ok(fetched.length > 0, `no GET of ${blobPath} in Azurite's log`);
  assert.ok(
    fetched.every((l) => l.includes('sp=r') && l.includes('sr=b')),
    fetched.join('\n'),
  );
});

test('presign off: tofu init gets 1.2.5 proxied by the server, verified on the way', async () => {
  const run = await tofuInit('proxied');
  await assertInstalled(run, 'proxied');
  assertProxiedAndVerified(env, 'proxied');
});

test('SAS-token credentials cannot presign: with fallbackToProxy false the download fails with a clear error, nothing proxied', async () => {
  const run = await tofuInit('unsignable');
  assert.is.not(run.code, 0, run.output);
  assert.match(run.output, /503|Service Unavailable/, run.output);
  const gets = archiveGets(env, 'unsignable');
  assert.ok(gets.length > 0 && gets.every((l) => l.status === 503), JSON.stringify(gets));
  const why = (env.logs as AccessLine[]).find((l) => l.msg === 'pre-signing failed and fallbackToProxy is false');
  assert.match(why?.reason ?? '', 'cannot pre-sign');
});

test('no log line of the operator or the server holds the account key or a SAS signature', () => {
  const text = JSON.stringify(env.logs);
  assert.not.ok(text.includes(azurite.accountKey), 'the account key was logged');
  assert.not.match(text, /[?&]sig=[A-Za-z0-9%+/]{20,}/, 'a SAS signature was logged');
});

test.run();
