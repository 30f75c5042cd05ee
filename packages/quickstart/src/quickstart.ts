/**
 * `npm run quickstart`: the whole registry on this machine. It starts a local control plane
 * (real etcd and kube-apiserver), installs the CRDs, runs the operator and the server with
 * filesystem storage under `--dir`, serves HTTPS with a CA it generates, loads the examples of
 * `examples/quickstart` through the git source, writes `kubeconfig`, `ca.pem`, `tofurc` and
 * `env.sh`, prints `OpenDepot is ready ...` and stays in the foreground until interrupted.
 *
 * Access is anonymous by default. `--auth dex` starts a real Dex beside it (memory storage, a
 * demo user in the static password database, a public client for `tofu login`), turns anonymous
 * access off, loads plugin-dex, and grants the demo user's group the examples with a GroupBinding.
 */
import { cp, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
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
  DEX_DEMO_PASSWORD,
  ensureTool,
  helloProviderExecutables,
  kubectl,
  startControlPlane,
  startDex,
  startHashicorpReleasesStandin,
  type ControlPlane,
  type Dex,
  type HostServices,
} from '@opendepot/testbed';
import { parseAllDocuments, stringify } from 'yaml';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const EXAMPLES = join(REPO_ROOT, 'examples', 'quickstart');
const NAMESPACE = 'opendepot-system';
/** The hostname the generated CLI config maps to this machine. */
export const QUICKSTART_HOST = 'opendepot.test';

/** The `--auth` values: who may read the registry. */
export const AUTH_MODES = ['anonymous', 'dex'] as const;
type AuthMode = (typeof AUTH_MODES)[number];

/** The demo user of `--auth dex` (Dex's static password database) and its group. */
export const DEMO_USER = { email: 'alice@example.com', username: 'alice', group: 'aws-platform-team' } as const;
/** The Dex static public client `tofu login` uses, and the loopback ports it may listen on. */
const DEX_CLIENT = 'opendepot-cli';
const LOGIN_PORTS: [number, number] = [10000, 10010];

interface Options {
  dir: string;
  port: number;
  auth: AuthMode;
}

const USAGE = `usage: npm run quickstart -- [--dir .opendepot/quickstart] [--port 8443] [--auth anonymous|dex]

  --dir   where it keeps its state, certificates and generated files (default .opendepot/quickstart)
  --port  the registry's HTTPS port on 127.0.0.1 (default 8443)
  --auth  who may read the registry:
            anonymous  anyone who can reach it (the default)
            dex        sign-in required: starts a local Dex with a demo user (${DEMO_USER.email} / ${DEX_DEMO_PASSWORD},
                       group ${DEMO_USER.group}) that a GroupBinding grants the examples; \`tofu login\` gets a token`;

/** The options, or a message for the user (a usage error). */
export function parseOptions(argv: string[]): Options | { help: string } | { error: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        dir: { type: 'string', default: '.opendepot/quickstart' },
        port: { type: 'string', default: '8443' },
        auth: { type: 'string', default: 'anonymous' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
  if (values.help) return { help: USAGE };
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { error: `--port must be a port number (1-65535), not ${values.port}` };
  const auth = values.auth!;
  if (!(AUTH_MODES as readonly string[]).includes(auth)) return { error: `--auth must be one of ${AUTH_MODES.join(', ')}, not ${JSON.stringify(auth)}` };
  return { dir: resolve(values.dir!), port, auth: auth as AuthMode };
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

/**
 * Starts a local stand-in of the HashiCorp Releases API publishing the example Providers, signed by
 * its own publisher key. `hello` is a real provider (packages/testbed/go/terraform-provider-hello),
 * built for each platform and version on first use; any other example gets shell stand-ins.
 */
async function upstreamOfExamples() {
  const publisher = await createSigningKey({ name: 'Quickstart upstream publisher' });
  const releases = await startHashicorpReleasesStandin({ signingKey: publisher });
  for (const { doc } of await exampleManifests()) {
    if (doc.kind !== 'Provider') continue;
    const pc = doc.spec.providerConfig!;
    const platforms = pc.operatingSystems.flatMap((os) => pc.architectures.map((arch) => ({ os, arch })));
    for (const { version } of doc.spec.versions) {
      const executables = pc.name === 'hello' ? await helloProviderExecutables(version, platforms) : new Map<string, string>();
      const built = platforms.map((p) => {
        const executable = executables.get(`${p.os}_${p.arch}`);
        return executable === undefined ? p : { ...p, executable };
      });
      await releases.addRelease(`terraform-provider-${pc.name}`, version, { platforms: built, protocols: ['5.0'] });
    }
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

/**
 * `--auth dex`: the GroupBinding that grants the demo user's group every example Module and
 * Provider (by resource name), the announcement's kind of binding. Written to `<dir>/groupbinding.yaml`.
 */
async function demoGroupBinding(): Promise<string> {
  const examples = (await exampleManifests()).map(({ doc }) => doc);
  const names = (kind: ExampleModule['kind']) => examples.filter((d) => d.kind === kind).map((d) => d.metadata.name);
  return stringify({
    apiVersion: 'opendepot.defdev.io/v1alpha1',
    kind: 'GroupBinding',
    metadata: { name: DEMO_USER.group, namespace: NAMESPACE },
    spec: { expression: `"${DEMO_USER.group}" in groups`, moduleResources: names('Module'), providerResources: names('Provider') },
  });
}

/**
 * `--auth dex`: a real Dex on loopback with the demo user and the public client `tofu login` uses,
 * which the web UI's browser sign-in uses too (its callback on the registry's URL).
 */
function startDemoDex(registryUrl: string): Promise<Dex> {
  const redirectURIs: string[] = [`${registryUrl}/ui/callback`];
  for (let p = LOGIN_PORTS[0]; p <= LOGIN_PORTS[1]; p++) redirectURIs.push(`http://localhost:${p}/login`);
  return startDex({
    users: [{ email: DEMO_USER.email, username: DEMO_USER.username, groups: [DEMO_USER.group] }],
    clients: [{ id: DEX_CLIENT, name: 'OpenDepot quickstart (tofu login)', public: true, redirectURIs }],
  });
}

/** The registry's discovery document, read over HTTPS trusting the quickstart's CA. */
function discoveryOf(url: string, ca: string): Promise<Record<string, unknown>> {
  return new Promise((resolvePromise, reject) => {
    httpsGet(`${url}/.well-known/terraform.json`, { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          if (res.statusCode !== 200) throw new Error(`discovery answered ${res.statusCode}`);
          resolvePromise(JSON.parse(body) as Record<string, unknown>);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    }).on('error', reject);
  });
}

/** The environment variable tofu and terraform take the host's token from. */
const TOKEN_VAR = `TF_TOKEN_${QUICKSTART_HOST.replaceAll('.', '_').replaceAll('-', '__')}`;

/**
 * env.sh. With `--auth dex` it also passes on the token `tofu login` stored: the clients read
 * `~/.terraform.d/credentials.tfrc.json` only when TF_CLI_CONFIG_FILE is unset (it replaces the
 * whole CLI config directory), so env.sh exports the stored token as TF_TOKEN_<host> instead.
 */
function envScript(dir: string, dex: Dex | undefined): string {
  const lines = [
    '# Source this file to use the quickstart registry: kubectl, tofu and terraform find it.',
    `# ${join(dir, 'bin')} holds the tofu, terraform and kubectl the quickstart uses.`,
    `export PATH=${join(dir, 'bin')}:$PATH`,
    `export KUBECONFIG=${join(dir, 'kubeconfig')}`,
    `export TF_CLI_CONFIG_FILE=${join(dir, 'tofurc')}`,
    `export SSL_CERT_FILE=${join(dir, 'ca.pem')}`,
  ];
  if (dex) {
    lines.push(
      `# --auth dex: tofu does not read the token \`tofu login\` stores while TF_CLI_CONFIG_FILE is set,`,
      `# so this passes it on as ${TOKEN_VAR}. Source this file again after tofu login.`,
      `_opendepot_token=$(sed -n '/"${QUICKSTART_HOST}"/,/}/s/.*"token": *"\\([^"]*\\)".*/\\1/p' "$HOME/.terraform.d/credentials.tfrc.json" 2>/dev/null || true)`,
      `if [ -n "$_opendepot_token" ]; then export ${TOKEN_VAR}="$_opendepot_token"; fi`,
      'unset _opendepot_token',
    );
  }
  return `${lines.join('\n')}\n`;
}

function accessText(dir: string, dex: Dex | undefined): string {
  if (dex === undefined) return 'access: anonymous (anyone who can reach it may read; --auth dex to require sign-in)';
  return `access: sign-in with Dex at ${dex.issuer} (anonymous access is off)
  demo user: ${DEMO_USER.email} / ${DEX_DEMO_PASSWORD} (group ${DEMO_USER.group})
  GroupBinding ${DEMO_USER.group} (${join(dir, 'groupbinding.yaml')}) grants that group the examples.

Sign in first (tofu opens a browser, or prints the URL to open on this machine):

  source ${join(dir, 'env.sh')}
  tofu login ${QUICKSTART_HOST}     # answer yes, then sign in as ${DEMO_USER.email} / ${DEX_DEMO_PASSWORD}
  source ${join(dir, 'env.sh')}     # again: passes the stored token on as ${TOKEN_VAR}

Without a browser (CI): put a token from Dex in ${TOKEN_VAR} instead of tofu login.
Without a token every read is refused (401); a user outside ${DEMO_USER.group} gets 403.`;
}

/** The README's example configuration: the example module and the example provider's data source. */
export const EXAMPLE_MAIN_TF = `terraform {
  required_providers {
    hello = {
      source  = "${QUICKSTART_HOST}/${NAMESPACE}/hello"
      version = "~> 1.1"
    }
  }
}

module "greeting" {
  source  = "${QUICKSTART_HOST}/${NAMESPACE}/greeting/null"
  version = "~> 1.2.0"
}

data "hello_greeting" "me" {
  name = "platform team"
}

output "greeting" {
  value = module.greeting.greeting
}

output "hello" {
  value = data.hello_greeting.me.greeting
}
`;

/** The CLIs env.sh puts on PATH: `<dir>/bin/<name>`, a symlink to the binary the quickstart uses. */
const CLIS = ['tofu', 'terraform', 'kubectl'] as const;

/** Links the tofu, terraform and kubectl the quickstart uses (built on first use) into `<dir>/bin`. */
async function linkClis(dir: string): Promise<void> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  for (const name of CLIS) {
    const target = await ensureTool(name);
    await rm(join(bin, name), { force: true });
    await symlink(target, join(bin, name));
  }
}

function usage(dir: string, url: string, keyId: string, dex: Dex | undefined): string {
  return `OpenDepot is ready at ${url}; browse it at ${url}/ui/
${accessText(dir, dex)}

Use it from another terminal:

  source ${join(dir, 'env.sh')}        # PATH (tofu, terraform, kubectl), KUBECONFIG, TF_CLI_CONFIG_FILE, SSL_CERT_FILE

  cat > main.tf <<'HCL'
${EXAMPLE_MAIN_TF.replace(/^(?=.)/gm, '  ')}  HCL
  tofu init && tofu apply -auto-approve

The module comes through the git source; the provider (hello, a real one) is verified with the
registry's signing key (key ID ${keyId}, ${join(dir, 'gpg', 'public-key.asc')}).

Or keep the original address and only add a network mirror to your CLI config:

  provider_installation {
    network_mirror {
      url = "${url}/opendepot/mirror/v1/"
    }
  }
  # then: source = "registry.opentofu.org/hashicorp/hello" (or "hashicorp/hello" with terraform)

See what the registry holds:

  kubectl get modules,providers,versions -n ${NAMESPACE}
  kubectl describe module greeting -n ${NAMESPACE}${dex ? `\n  kubectl get groupbindings -n ${NAMESPACE} -o yaml` : ''}

Add a version: edit spec.versions of examples/quickstart/manifests/greeting.yaml (the tag must exist in
${join(dir, 'repos', 'greeting')}) and kubectl apply it. Press Ctrl-C to stop everything.`;
}

/** Runs the quickstart until SIGINT/SIGTERM. */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  const options = parseOptions(argv);
  if ('help' in options) {
    console.log(options.help);
    process.exit(0);
  }
  if ('error' in options) {
    console.error(`[quickstart] ${options.error}\n\n${USAGE}`);
    process.exit(2);
  }
  const { dir, port, auth } = options;
  await mkdir(join(dir, 'tls'), { recursive: true });
  const storagePath = join(dir, 'storage');
  const url = `https://127.0.0.1:${port}`;
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
    // Meanwhile (a first run builds them): the tofu, terraform and kubectl env.sh puts on PATH.
    const clisLinked = linkClis(dir);
    clisLinked.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled
    await kubectl(plane, ['create', 'namespace', NAMESPACE]);

    // opendepot.test too: a tool that resolves the name itself (curl --resolve, a hosts entry) can use it.
    const certs = await createTestCertificates({ hosts: ['127.0.0.1', '::1', 'localhost', QUICKSTART_HOST], days: 30, commonName: 'OpenDepot quickstart CA' });
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

    let dex: Dex | undefined;
    if (auth === 'dex') {
      say('starting Dex for sign-in (--auth dex; built from the Go module proxy on first use)');
      dex = await startDemoDex(url);
      stops.push(() => dex!.stop());
    }

    const values = {
      logLevel: process.env.OPENDEPOT_LOG_LEVEL ?? 'warn',
      namespace: NAMESPACE,
      allowFileUrls: true, // the examples come from local git repositories
      plugins: [
        { package: '@opendepot/plugin-fs' },
        // The operator skips `kind: auth` entries without resolving them; the server ships plugin-dex.
        ...(dex ? [{ package: '@opendepot/plugin-dex', kind: 'auth', config: { issuerUrl: dex.issuer, clientId: DEX_CLIENT, loginPorts: LOGIN_PORTS } }] : []),
      ],
      ...(dex ? { auth: { anonymous: { enabled: false } } } : {}),
      // Storage is platform policy: one filesystem profile, which the example manifests use.
      storage: { defaultProfile: 'default', profiles: { default: { filesystem: { path: storagePath } } } },
      server: {
        port,
        externalUrl: url, // the URL it prints: every URL the server hands out is absolute, on it
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

    if (dex) {
      // Before the examples, so the server's informer has it by the time they are Ready.
      const binding = await demoGroupBinding();
      await writeFile(join(dir, 'groupbinding.yaml'), binding);
      const applied = await kubectl(plane, ['apply', '-f', '-'], { input: binding });
      if (applied.code !== 0) throw new Error(`applying the GroupBinding failed: ${applied.stderr}`);
    }

    say('loading the examples of examples/quickstart (a module through the git source, a provider from the stand-in)');
    const repos = await exampleRepos(dir);
    const names = await applyExamples(plane, repos, storagePath);
    await waitForModules(plane, names);

    // The host block replaces discovery for the made-up host, so it carries login.v1 too (from the server's own discovery).
    const loginV1 = dex ? ((await discoveryOf(url, certs.caPem))['login.v1'] as HostServices['login.v1']) : undefined;
    if (dex && loginV1 === undefined) throw new Error('the server does not advertise login.v1');
    const services: HostServices = { 'modules.v1': `${url}/opendepot/modules/v1/`, 'providers.v1': `${url}/opendepot/providers/v1/`, ...(loginV1 ? { 'login.v1': loginV1 } : {}) };
    await writeFile(join(dir, 'tofurc'), cliConfigText(QUICKSTART_HOST, services, ''));
    await clisLinked;
    await writeFile(join(dir, 'env.sh'), envScript(dir, dex));
    console.log(usage(dir, url, registryKey.keyId, dex));
  } catch (err) {
    console.error(`[quickstart] failed: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll();
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
