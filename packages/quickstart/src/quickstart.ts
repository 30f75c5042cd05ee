/**
 * `npm run quickstart`: the whole registry on this machine. It starts a local control plane
 * (real etcd and kube-apiserver), installs the CRDs, runs the operator and the server with
 * filesystem storage under `--dir`, serves HTTPS with a CA it generates, loads the examples of
 * `examples/quickstart` through the git source, writes `kubeconfig`, `ca.pem`, `tofurc` and
 * `env.sh`, prints `OpenDepot is ready ...` and stays in the foreground until interrupted.
 */
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger, parseConfig, type HostConfig } from '@opendepot/core';
import { startOperator, type RunningOperator } from '@opendepot/operator';
import { startServer, type RunningServer } from '@opendepot/server';
import {
  cliConfigText,
  createGitRepo,
  createSigningKey,
  createTestCertificates,
  kubectl,
  startControlPlane,
  startHashicorpReleasesStandin,
  type ControlPlane,
} from '@opendepot/testbed';
import { parseAllDocuments, stringify } from 'yaml';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const EXAMPLES = join(REPO_ROOT, 'examples', 'quickstart');
const NAMESPACE = 'opendepot-system';
/** The hostname the generated CLI config maps to this machine. */
export const QUICKSTART_HOST = 'opendepot.test';

interface Options {
  dir: string;
  port: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: { dir: { type: 'string', default: '.opendepot/quickstart' }, port: { type: 'string', default: '8443' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log('usage: npm run quickstart -- [--dir .opendepot/quickstart] [--port 8443]');
    process.exit(0);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be a port number (1-65535), not ${values.port}`);
  return { dir: resolve(values.dir!), port };
}

const say = (line: string) => console.log(`[quickstart] ${line}`);

/** Builds a git repository per example module with one tag per version its manifest lists. */
async function exampleRepos(dir: string): Promise<Map<string, string>> {
  const urls = new Map<string, string>();
  for (const { doc } of await exampleManifests()) {
    if (doc.kind !== 'Module') continue;
    const sourceDir = join(EXAMPLES, 'modules', doc.metadata.annotations?.['opendepot.defdev.io/example-source'] ?? doc.metadata.name);
    const files: Record<string, string> = {};
    for (const name of await readdir(sourceDir)) files[name] = await readFile(join(sourceDir, name), 'utf8');
    const tags = Object.fromEntries(doc.spec.versions.map(({ version }) => [`v${version}`, { ...files, VERSION: `${version}\n` }]));
    // Rebuilt on every start (same content, same commit ids): the examples may have changed.
    await rm(join(dir, 'repos', doc.metadata.name), { recursive: true, force: true });
    const repo = await createGitRepo(join(dir, 'repos', doc.metadata.name), { tags });
    urls.set(doc.metadata.name, repo.url);
  }
  return urls;
}

interface ExampleModule {
  kind: 'Module' | 'Provider';
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { versions: { version: string }[]; providerConfig?: { name: string; operatingSystems: string[]; architectures: string[] } };
}

/** Every example manifest, parsed. */
async function exampleManifests(): Promise<{ file: string; text: string; doc: ExampleModule }[]> {
  const files = (await readdir(join(EXAMPLES, 'manifests'))).filter((f) => f.endsWith('.yaml')).sort();
  return Promise.all(
    files.map(async (file) => {
      const text = await readFile(join(EXAMPLES, 'manifests', file), 'utf8');
      return { file, text, doc: parseAllDocuments(text)[0]!.toJS() as ExampleModule };
    }),
  );
}

async function applyExamples(plane: ControlPlane, repos: Map<string, string>, storagePath: string): Promise<string[]> {
  const names: string[] = [];
  for (const { file, text, doc } of await exampleManifests()) {
    const filled = text.replaceAll('REPO_URL', repos.get(doc.metadata.name) ?? 'REPO_URL').replaceAll('STORAGE_PATH', storagePath);
    const applied = await kubectl(plane, ['apply', '-f', '-'], { input: filled });
    if (applied.code !== 0) throw new Error(`applying examples/quickstart/manifests/${file} failed: ${applied.stderr}`);
    names.push(`${doc.kind.toLowerCase()}/${doc.metadata.name}`);
  }
  return names;
}

/** Starts a local stand-in of the HashiCorp Releases API publishing the example Providers, signed by its own publisher key. */
async function upstreamOfExamples() {
  const publisher = await createSigningKey({ name: 'Quickstart upstream publisher' });
  const releases = await startHashicorpReleasesStandin({ signingKey: publisher });
  for (const { doc } of await exampleManifests()) {
    if (doc.kind !== 'Provider') continue;
    const pc = doc.spec.providerConfig!;
    const platforms = pc.operatingSystems.flatMap((os) => pc.architectures.map((arch) => ({ os, arch })));
    for (const { version } of doc.spec.versions) await releases.addRelease(`terraform-provider-${pc.name}`, version, { platforms, protocols: ['5.0'] });
  }
  return { releases, publisher };
}

async function waitForModules(plane: ControlPlane, names: string[], timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const r = await kubectl(plane, ['get', 'modules,providers', '-n', NAMESPACE, '-o', 'json']);
    if (r.code === 0) {
      type Item = { kind: string; metadata: { name: string }; status?: { progress?: string; conditions?: { type: string; status: string; message: string }[] } };
      const items = (JSON.parse(r.stdout) as { items: Item[] }).items.filter((m) => names.includes(`${m.kind.toLowerCase()}/${m.metadata.name}`));
      last = items.map((m) => `${m.metadata.name} ${m.status?.progress ?? '0/?'}`).join(', ');
      const stalled = items.flatMap((m) => m.status?.conditions?.filter((c) => c.type === 'Stalled' && c.status === 'True') ?? []);
      if (stalled.length > 0) throw new Error(`an example stalled: ${stalled[0]!.message}`);
      if (items.length === names.length && items.every((m) => m.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))) return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the examples were not Ready after ${timeoutMs / 1000}s (${last})`);
}

function usage(dir: string, url: string, keyId: string): string {
  return `OpenDepot is ready at ${url}

Use it from another terminal:

  source ${join(dir, 'env.sh')}        # KUBECONFIG, TF_CLI_CONFIG_FILE, SSL_CERT_FILE

  cat > main.tf <<'HCL'
  module "greeting" {
    source  = "${QUICKSTART_HOST}/${NAMESPACE}/greeting/null"
    version = "~> 1.2.0"
  }

  output "greeting" {
    value = module.greeting.greeting
  }
  HCL
  tofu init && tofu apply -auto-approve

A provider, verified with the registry's signing key (key ID ${keyId}, ${join(dir, 'gpg', 'public-key.asc')}):

  terraform {
    required_providers {
      hello = {
        source  = "${QUICKSTART_HOST}/${NAMESPACE}/hello"
        version = "~> 1.1"
      }
    }
  }

Or keep the original address and only add a network mirror to your CLI config:

  provider_installation {
    network_mirror {
      url = "${url}/opendepot/mirror/v1/"
    }
  }
  # then: source = "registry.opentofu.org/hashicorp/hello" (or "hashicorp/hello" with terraform)

See what the registry holds:

  kubectl get modules,providers,versions -n ${NAMESPACE}
  kubectl describe module greeting -n ${NAMESPACE}

Add a version: edit spec.versions of examples/quickstart/manifests/greeting.yaml (the tag must exist in
${join(dir, 'repos', 'greeting')}) and kubectl apply it. Press Ctrl-C to stop everything.`;
}

/** Runs the quickstart until SIGINT/SIGTERM. */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  const options = parseOptions(argv);
  const { dir, port } = options;
  await mkdir(join(dir, 'tls'), { recursive: true });
  const storagePath = join(dir, 'storage');
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => console.error(`[quickstart] while stopping: ${String(err)}`));
  };
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping`);
    void stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    say('starting a local control plane (etcd and kube-apiserver; built from the Go module proxy on first use)');
    const plane = await startControlPlane();
    stops.push(() => plane.stop());
    await cp(plane.kubeconfigPath, join(dir, 'kubeconfig'));
    await kubectl(plane, ['create', 'namespace', NAMESPACE]);

    const certs = await createTestCertificates({ hosts: ['127.0.0.1', '::1', 'localhost'], days: 30, commonName: 'OpenDepot quickstart CA' });
    await writeFile(join(dir, 'ca.pem'), certs.caPem);
    await writeFile(join(dir, 'tls', 'cert.pem'), certs.certPem);
    await writeFile(join(dir, 'tls', 'key.pem'), certs.keyPem, { mode: 0o600 });

    say('starting a local stand-in of the HashiCorp Releases API for the example provider');
    const upstream = await upstreamOfExamples();
    stops.push(() => upstream.releases.close());
    // The registry's own signing key: clients verify every provider against it.
    const registryKey = await createSigningKey({ name: 'OpenDepot quickstart registry' });
    await mkdir(join(dir, 'gpg'), { recursive: true });
    await writeFile(join(dir, 'gpg', 'private-key.asc'), registryKey.privateKeyArmored, { mode: 0o600 });
    await writeFile(join(dir, 'gpg', 'public-key.asc'), registryKey.publicKeyArmored);

    const values = {
      logLevel: process.env.OPENDEPOT_LOG_LEVEL ?? 'warn',
      namespace: NAMESPACE,
      allowFileUrls: true, // the examples come from local git repositories
      plugins: [{ package: '@opendepot/plugin-fs' }],
      // Storage is platform policy: one filesystem profile, which the example manifests use.
      storage: { defaultProfile: 'default', profiles: { default: { filesystem: { path: storagePath } } } },
      server: {
        port,
        metricsPort: 0, // any free port: a fixed one could be taken on a developer's machine
        host: '127.0.0.1',
        tls: { certFile: join(dir, 'tls', 'cert.pem'), keyFile: join(dir, 'tls', 'key.pem') },
        gpg: { privateKeyFile: join(dir, 'gpg', 'private-key.asc') },
      },
      operator: {
        leaderElection: { enabled: true, leaseName: 'opendepot-operator' },
        verifyIntervalSeconds: 60,
        // The quickstart's upstreams (its HashiCorp Releases stand-in, local git repositories) are its own, on loopback.
        egress: { allowedPrivateCidrs: ['127.0.0.0/8', '::1/128'] },
        providers: { hashicorpReleasesUrl: upstream.releases.url, hashicorpTrustedKeys: [upstream.publisher.publicKeyArmored], allowInsecureHttp: true },
      },
    };
    await writeFile(join(dir, 'config.yaml'), stringify(values));
    const { config } = parseConfig(stringify(values), { baseDir: fileURLToPath(new URL('..', import.meta.url)) });
    const logger = createLogger({ level: config.logLevel, name: 'opendepot' });
    const baseDir = fileURLToPath(new URL('..', import.meta.url));

    say('starting the operator and the server');
    const operator: RunningOperator = await startOperator({ config: config as HostConfig, kubeconfigPath: plane.kubeconfigPath, baseDir, healthPort: 0, logger });
    stops.push(() => operator.stop());
    const server: RunningServer = await startServer({ config: config as HostConfig, kubeconfigPath: plane.kubeconfigPath, baseDir, logger });
    stops.push(() => server.stop());
    await server.synced;

    say('loading the examples of examples/quickstart (a module through the git source, a provider from the stand-in)');
    const repos = await exampleRepos(dir);
    const names = await applyExamples(plane, repos, storagePath);
    await waitForModules(plane, names);

    const url = `https://127.0.0.1:${port}`;
    await writeFile(join(dir, 'tofurc'), cliConfigText(QUICKSTART_HOST, { 'modules.v1': `${url}/opendepot/modules/v1/`, 'providers.v1': `${url}/opendepot/providers/v1/` }, ''));
    await writeFile(
      join(dir, 'env.sh'),
      `# Source this file to use the quickstart registry: kubectl, tofu and terraform find it.\nexport KUBECONFIG=${join(dir, 'kubeconfig')}\nexport TF_CLI_CONFIG_FILE=${join(dir, 'tofurc')}\nexport SSL_CERT_FILE=${join(dir, 'ca.pem')}\n`,
    );
    console.log(usage(dir, url, registryKey.keyId));
  } catch (err) {
    console.error(`[quickstart] failed: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll();
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
