/**
 * The README's first command, run as a user runs it (`scripts/quickstart.sh`, what
 * `npm run quickstart` calls): after `OpenDepot is ready`, the README's steps, word for word,
 * work with nothing but the written env.sh (its PATH brings tofu, terraform and kubectl): `tofu
 * init` and `tofu apply` of the example module and the real example provider. Its certificate
 * covers opendepot.test, and Ctrl-C stops everything.
 * Then `--auth dex`: a real Dex beside it, no token is a 401, a token from Dex's login form (and
 * from the real `tofu login`) reads what the demo GroupBinding grants.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get as httpsGet, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dexAccessToken, cliLogin, DEX_DEMO_PASSWORD, ensureTool, freePort } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
let dir: string;
let child: ChildProcess;
let output = '';
let port: number;
const children: ChildProcess[] = [];

/** Runs scripts/quickstart.sh with `args`; `output` collects stdout and stderr. */
function quickstart(args: string[], onOutput: (text: string) => void): ChildProcess {
  const started = spawn('bash', [join(root, 'scripts/quickstart.sh'), ...args], {
    cwd: root,
    env: { ...process.env, OPENDEPOT_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(started);
  started.stdout!.on('data', (d: Buffer) => onOutput(d.toString()));
  started.stderr!.on('data', (d: Buffer) => onOutput(d.toString()));
  return started;
}

/** Resolves once `started` printed `OpenDepot is ready at https://127.0.0.1:<port>; browse it at <the same>/ui/`. */
function ready(started: ChildProcess, output: () => string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // A first run builds the example provider for four platforms (~45 s each) besides the tools.
    const timer = setTimeout(() => reject(new Error(`no "OpenDepot is ready" after 600 s:\n${output()}`)), 600_000);
    const check = () => {
      if (/^OpenDepot is ready at (https:\/\/127\.0\.0\.1:\d+); browse it at \1\/ui\/$/m.test(output())) {
        clearTimeout(timer);
        resolve();
      }
    };
    started.stdout!.on('data', check);
    started.on('exit', (code) => reject(new Error(`quickstart exited (${code}) before it was ready:\n${output()}`)));
  });
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'opendepot-quickstart-'));
  port = await freePort();
  child = quickstart(['--dir', join(dir, 'qs'), '--port', String(port)], (text) => (output += text));
  await ready(child, () => output);
});

test.after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

test('it writes kubeconfig, ca.pem, tofurc and env.sh, and prints how to use it', async () => {
  const qs = join(dir, 'qs');
  for (const f of ['kubeconfig', 'ca.pem', 'tofurc', 'env.sh']) assert.ok((await readFile(join(qs, f), 'utf8')).length > 0, f);
  const tofurc = await readFile(join(qs, 'tofurc'), 'utf8');
  assert.match(tofurc, 'host "opendepot.test"');
  assert.match(tofurc, `"modules.v1" = "https://127.0.0.1:${port}/opendepot/modules/v1/"`);
  assert.match(tofurc, `"providers.v1" = "https://127.0.0.1:${port}/opendepot/providers/v1/"`);
  const envSh = await readFile(join(qs, 'env.sh'), 'utf8');
  for (const v of ['KUBECONFIG', 'TF_CLI_CONFIG_FILE', 'SSL_CERT_FILE']) assert.match(envSh, `export ${v}=`);
  assert.match(output, 'source "opendepot.test/opendepot-system/greeting/null"'.replace('source "', 'source  = "'));
  assert.match(output, 'kubectl get modules,providers,versions -n opendepot-system');
  assert.match(output, 'source  = "opendepot.test/opendepot-system/hello"');
  assert.match(output, `url = "https://127.0.0.1:${port}/opendepot/mirror/v1/"`);
  assert.match(output, 'access: anonymous (anyone who can reach it may read; --auth dex to require sign-in)');
});

test('the browse UI is on the URL the ready line prints: its search finds the example module, whose page shows its README and inputs', async () => {
  const ca = await readFile(join(dir, 'qs', 'ca.pem'), 'utf8');
  const page = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      httpsGet(`https://127.0.0.1:${port}${path}`, { ca }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
  const list = await page('/ui/?q=greet');
  assert.is(list.status, 200);
  assert.match(list.body, 'href="/ui/modules/opendepot-system/greeting/null"');
  const module = await page('/ui/modules/opendepot-system/greeting/null');
  assert.is(module.status, 200);
  assert.match(module.body, 'source  = &quot;127.0.0.1:');
  assert.match(module.body, /<h2>README<\/h2>/);
});

/** The README's quickstart steps: its first `sh` block, with `--dir` (.opendepot/quickstart) being this test's. */
async function readmeSteps(): Promise<string> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### The quickstart'));
  const block = /```sh\n(source \.opendepot\/quickstart\/env\.sh[\s\S]*?)```/.exec(section);
  assert.ok(block, "the README's quickstart has no sh block that sources env.sh");
  return block[1]!.replaceAll('.opendepot/quickstart', join(dir, 'qs'));
}

/** Runs a bash script in `work` (with its own HOME) with only the machine's basic PATH: env.sh must bring the CLIs. */
async function inShell(work: string, script: string, env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  await run('mkdir', ['-p', join(work, 'home')]);
  return run('bash', ['-c', `set -e\n${script}`], { cwd: work, env: { PATH: '/usr/bin:/bin', HOME: join(work, 'home'), CHECKPOINT_DISABLE: '1', ...env }, timeout: 180_000 });
}

test("the README's steps, word for word: source env.sh, then tofu init and apply the module and the real provider", async () => {
  const steps = await readmeSteps();
  // What the quickstart prints is what the README says.
  const mainTf = /cat > main\.tf <<'HCL'\n([\s\S]*?)HCL\n/.exec(steps)![1]!;
  assert.ok(output.includes(mainTf.replace(/^(?=.)/gm, '  ')), `the printed main.tf differs from the README's:\n${mainTf}`);
  const { stdout } = await inShell(join(dir, 'work'), steps, { TF_CLI_ARGS: '-no-color' });
  assert.match(stdout, 'Downloading opendepot.test/opendepot-system/greeting/null 1.2.5 for greeting...');
  assert.match(stdout, /Installed opendepot\.test\/opendepot-system\/hello v1\.1\.0 \(signed, key ID [0-9A-F]{16}\)/);
  assert.match(stdout, 'greeting = "Hello, platform team, from terraform-null-greeting 1.2.5!"');
  assert.match(stdout, 'hello = "Hello, platform team! (from hello 1.1.0, served by OpenDepot)"');
  assert.match(stdout, /module\.opendepot\.defdev\.io\/greeting\s+True\s+1\.3\.0\s+5\/5/);
});

test("env.sh's PATH brings the tofu, terraform and kubectl the quickstart uses; kubectl reads its API server", async () => {
  const bin = join(dir, 'qs', 'bin');
  const { stdout } = await inShell(
    join(dir, 'clis'),
    `source ${join(dir, 'qs', 'env.sh')}
for c in tofu terraform kubectl; do echo "$c at $(command -v $c)"; done
tofu version; terraform version; kubectl version --client
kubectl get modules -A`,
  );
  for (const c of ['tofu', 'terraform', 'kubectl']) assert.match(stdout, `${c} at ${join(bin, c)}\n`);
  assert.match(stdout, /OpenTofu v1\.12\./);
  assert.match(stdout, 'Terraform v1.5.7');
  assert.match(stdout, /Client Version: v1\.3[2-4]\./);
  assert.match(stdout, /opendepot-system\s+greeting\s+True/);
});

test('the certificate covers opendepot.test (and 127.0.0.1, ::1, localhost); the server answers by that name', async () => {
  const cert = new X509Certificate(await readFile(join(dir, 'qs', 'tls', 'cert.pem')));
  const sans = cert.subjectAltName!.split(', ');
  for (const san of ['DNS:opendepot.test', 'DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1']) assert.ok(sans.includes(san), `${san} not in ${cert.subjectAltName}`);
  assert.ok(cert.checkIssued(new X509Certificate(await readFile(join(dir, 'qs', 'ca.pem')))));
  // As `curl --resolve opendepot.test:<port>:127.0.0.1` would: the name resolved by the client, verified by TLS.
  const ca = await readFile(join(dir, 'qs', 'ca.pem'), 'utf8');
  const lookup: LookupFunction = (_host, options, callback) => {
    if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
  };
  const status = await new Promise<number>((resolve, reject) => {
    httpsGet(`https://opendepot.test:${port}/.well-known/terraform.json`, { ca, lookup }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    }).on('error', reject);
  });
  assert.is(status, 200);
});

test('server.externalUrl is the printed URL: the provider download answer is absolute on it', async () => {
  const config = await readFile(join(dir, 'qs', 'config.yaml'), 'utf8');
  assert.match(config, `externalUrl: https://127.0.0.1:${port}`);
  const ca = await readFile(join(dir, 'qs', 'ca.pem'), 'utf8');
  const body = await new Promise<string>((resolve, reject) => {
    httpsGet(`https://127.0.0.1:${port}/opendepot/providers/v1/opendepot-system/hello/1.1.0/download/linux/amd64`, { ca }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
  const answer = JSON.parse(body) as { download_url: string; shasums_url: string; filename: string };
  assert.is(answer.filename, 'terraform-provider-hello_1.1.0_linux_amd64.zip');
  for (const u of [answer.download_url, answer.shasums_url]) assert.ok(u.startsWith(`https://127.0.0.1:${port}/`), u);
});

test('the example provider: two versions on linux_amd64, linux_arm64 and darwin_arm64, installed with the registry signature', async () => {
  const tofu = await ensureTool('tofu');
  const work = join(dir, 'provider-work');
  await run('mkdir', ['-p', join(work, 'home')]);
  await writeFile(join(work, 'main.tf'), 'terraform {\n  required_providers {\n    hello = {\n      source  = "opendepot.test/opendepot-system/hello"\n      version = "~> 1.1"\n    }\n  }\n}\n');
  const script = `set -e; source ${join(dir, 'qs', 'env.sh')}; "${tofu}" init -input=false -no-color; kubectl get versions -n opendepot-system -l opendepot.defdev.io/owner-name=hello -o name`;
  const { stdout } = await run('bash', ['-c', script], { cwd: work, env: { PATH: process.env.PATH, HOME: join(work, 'home'), CHECKPOINT_DISABLE: '1' }, timeout: 120_000 });
  assert.match(stdout, /Installed opendepot\.test\/opendepot-system\/hello v1\.1\.0 \(.*key ID [0-9A-F]{16}\)/);
  for (const v of ['1.0.0', '1.1.0']) for (const p of ['linux-amd64', 'linux-arm64', 'darwin-arm64']) assert.match(stdout, `version.opendepot.defdev.io/hello-${v}-${p}`);
});

test('Ctrl-C stops everything it started', async () => {
  const kubeconfig = await readFile(join(dir, 'qs', 'kubeconfig'), 'utf8');
  const apiPort = /server: https:\/\/127\.0\.0\.1:(\d+)/.exec(kubeconfig)![1]!;
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // scripts/quickstart.sh execs node, so the child is the process Ctrl-C reaches.
  child.kill('SIGINT');
  assert.is(await exited, 0, output);
  const { stdout } = await run('ps', ['-eo', 'args']);
  assert.not.ok(stdout.includes(`--secure-port=${apiPort}`), 'kube-apiserver still running');
  const stillServing = await fetch(`http://127.0.0.1:${port}/`).then(
    () => true,
    () => false,
  );
  assert.not.ok(stillServing, 'the server still listens');
});

test('--auth with an unknown value is refused with the accepted ones; --help documents --auth', async () => {
  const refused = await run('bash', [join(root, 'scripts/quickstart.sh'), '--dir', join(dir, 'refused'), '--auth', 'ldap'], { cwd: root }).then(
    (r) => ({ code: 0, stderr: `it started: ${r.stdout}` }),
    (err: { code: number; stderr: string }) => err,
  );
  assert.is(refused.code, 2);
  assert.match(refused.stderr, '--auth must be one of anonymous, dex, not "ldap"');
  const { stdout } = await run('bash', [join(root, 'scripts/quickstart.sh'), '--help'], { cwd: root });
  assert.match(stdout, '--auth anonymous|dex');
  assert.match(stdout, 'dex        sign-in required');
});

// --auth dex: a second quickstart, with Dex.
let dexDir: string;
let dexChild: ChildProcess;
let dexOutput = '';
let dexPort: number;
const CA = () => readFile(join(dexDir, 'ca.pem'), 'utf8');

/** GET over HTTPS trusting the quickstart's CA, with an optional bearer token. */
async function get(path: string, token?: string): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const ca = await CA();
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`https://127.0.0.1:${dexPort}${path}`, { ca, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface LoginV1 {
  client: string;
  authz: string;
  token: string;
  scopes: string[];
  ports: [number, number];
}

test('--auth dex: it starts Dex, prints the tofu login steps with the demo user, and says sign-in is required', async () => {
  dexDir = join(dir, 'qs-dex');
  dexPort = await freePort();
  dexChild = quickstart(['--dir', dexDir, '--port', String(dexPort), '--auth', 'dex'], (text) => (dexOutput += text));
  await ready(dexChild, () => dexOutput);
  assert.match(dexOutput, /access: sign-in with Dex at http:\/\/127\.0\.0\.1:\d+\/dex \(anonymous access is off\)/);
  assert.match(dexOutput, 'tofu login opendepot.test');
  assert.match(dexOutput, `demo user: alice@example.com / ${DEX_DEMO_PASSWORD} (group aws-platform-team)`);
  assert.match(dexOutput, 'TF_TOKEN_opendepot_test');
  const binding = await readFile(join(dexDir, 'groupbinding.yaml'), 'utf8');
  assert.match(binding, 'expression: \'"aws-platform-team" in groups\'');
  assert.match(binding, /moduleResources:\n\s+- greeting/);
  assert.match(binding, /providerResources:\n\s+- hello/);
});

test('--auth dex: no token is a 401; discovery is public and advertises login.v1 of the quickstart Dex', async () => {
  const versions = await get('/opendepot/modules/v1/opendepot-system/greeting/null/versions');
  assert.is(versions.status, 401);
  assert.is(versions.headers['www-authenticate'], 'Bearer');
  const discovery = await get('/.well-known/terraform.json');
  assert.is(discovery.status, 200);
  const login = (JSON.parse(discovery.body) as { 'login.v1'?: LoginV1 })['login.v1'];
  assert.ok(login, discovery.body);
  assert.is(login.client, 'opendepot-cli');
  assert.match(login.authz, /^http:\/\/127\.0\.0\.1:\d+\/dex\/auth$/);
  assert.equal(login.ports, [10000, 10010]);
  // The tofurc's host block stands in for discovery, so it carries login.v1 as well.
  const tofurc = await readFile(join(dexDir, 'tofurc'), 'utf8');
  assert.match(tofurc, '"login.v1" = {');
  assert.match(tofurc, `authz = "${login.authz}"`);
});

test("--auth dex: a token from Dex's login form for the demo user reads the granted module and provider", async () => {
  const login = (JSON.parse((await get('/.well-known/terraform.json')).body) as { 'login.v1': LoginV1 })['login.v1'];
  const token = await dexAccessToken(login, { clientId: login.client, scopes: login.scopes, port: 10004 });
  const versions = await get('/opendepot/modules/v1/opendepot-system/greeting/null/versions', token);
  assert.is(versions.status, 200, versions.body);
  assert.match(versions.body, '"1.2.5"');
  assert.is((await get('/opendepot/providers/v1/opendepot-system/hello/versions', token)).status, 200);
  assert.is((await get('/opendepot/modules/v1/opendepot-system/greeting/null/versions', `${token}x`)).status, 401);
});

test('--auth dex: the printed steps: source env.sh, the real tofu login through Dex, source env.sh again, tofu init installs the module', async () => {
  const tofu = await ensureTool('tofu');
  const work = join(dir, 'dex-work');
  const home = join(work, 'home');
  await run('mkdir', ['-p', home]);
  const envSh = join(dexDir, 'env.sh');
  const env = { SSL_CERT_FILE: join(dexDir, 'ca.pem') };
  const { token } = await cliLogin('tofu', 'opendepot.test', {
    home,
    credentials: { login: 'alice@example.com', password: DEX_DEMO_PASSWORD },
    env: { ...env, TF_CLI_CONFIG_FILE: join(dexDir, 'tofurc') },
  });
  await writeFile(join(work, 'main.tf'), 'module "greeting" {\n  source  = "opendepot.test/opendepot-system/greeting/null"\n  version = "~> 1.2.0"\n}\n');
  const script = `set -e; source ${envSh}; test "$TF_TOKEN_opendepot_test" = "${token}"; "${tofu}" init -input=false -no-color`;
  const { stdout } = await run('bash', ['-c', script], { cwd: work, env: { PATH: process.env.PATH, HOME: home, CHECKPOINT_DISABLE: '1' }, timeout: 120_000 });
  assert.match(stdout, 'Downloading opendepot.test/opendepot-system/greeting/null 1.2.5 for greeting...');
  // Without the token (a fresh HOME and directory: nothing stored), the same init is refused.
  const other = join(dir, 'dex-work-no-token');
  await run('mkdir', ['-p', join(other, 'home')]);
  await writeFile(join(other, 'main.tf'), await readFile(join(work, 'main.tf'), 'utf8'));
  const refused = await run('bash', ['-c', script.replace(/test "[^;]*; /, '')], {
    cwd: other,
    env: { PATH: process.env.PATH, HOME: join(other, 'home'), CHECKPOINT_DISABLE: '1' },
    timeout: 120_000,
  }).then(
    (r) => `succeeded: ${r.stdout}`,
    (err: { stdout: string; stderr: string }) => err.stdout + err.stderr,
  );
  assert.match(refused, '401 Unauthorized', refused);
});

test('--auth dex: Ctrl-C stops Dex too', async () => {
  const issuer = /access: sign-in with Dex at (\S+)/.exec(dexOutput)![1]!;
  const exited = new Promise<number | null>((resolve) => dexChild.once('exit', resolve));
  dexChild.kill('SIGINT');
  assert.is(await exited, 0, dexOutput);
  const stillServing = await fetch(`${issuer}/.well-known/openid-configuration`).then(
    () => true,
    () => false,
  );
  assert.not.ok(stillServing, 'Dex still listens');
});

test.run();
