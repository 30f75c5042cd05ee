/**
 * The README's first command, run as a user runs it (`scripts/quickstart.sh`, what
 * `npm run quickstart` calls): after `OpenDepot is ready`, the README's example `tofu init`
 * and `tofu apply` work with nothing but the written env.sh, and Ctrl-C stops everything.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureTool, freePort } from '@opendepot/testbed';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
let dir: string;
let child: ChildProcess;
let output = '';
let port: number;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'opendepot-quickstart-'));
  port = await freePort();
  child = spawn('bash', [join(root, 'scripts/quickstart.sh'), '--dir', join(dir, 'qs'), '--port', String(port)], {
    cwd: root,
    env: { ...process.env, OPENDEPOT_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "OpenDepot is ready" after 240 s:\n${output}`)), 240_000);
    const check = () => {
      if (/^OpenDepot is ready at https:\/\/127\.0\.0\.1:\d+$/m.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => reject(new Error(`quickstart exited (${code}) before it was ready:\n${output}`)));
  });
});

test.after(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
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
});

test("the README's example: tofu init and apply against the quickstart, with only env.sh", async () => {
  const tofu = await ensureTool('tofu');
  const work = join(dir, 'work');
  await run('mkdir', ['-p', join(work, 'home')]);
  await writeFile(
    join(work, 'main.tf'),
    'module "greeting" {\n  source  = "opendepot.test/opendepot-system/greeting/null"\n  version = "~> 1.2.0"\n}\n\noutput "greeting" {\n  value = module.greeting.greeting\n}\n',
  );
  const script = `set -e; source ${join(dir, 'qs', 'env.sh')}; "${tofu}" init -input=false -no-color; "${tofu}" apply -auto-approve -no-color; kubectl get modules -n opendepot-system`;
  const { stdout } = await run('bash', ['-c', script], { cwd: work, env: { PATH: process.env.PATH, HOME: join(work, 'home'), CHECKPOINT_DISABLE: '1' }, timeout: 120_000 });
  assert.match(stdout, 'Downloading opendepot.test/opendepot-system/greeting/null 1.2.5 for greeting...');
  assert.match(stdout, 'greeting = "Hello, platform team, from terraform-null-greeting 1.2.5!"');
  assert.match(stdout, /greeting\s+True\s+1\.3\.0\s+5\/5/);
});

test('the example provider: two versions on linux_amd64, linux_arm64 and darwin_arm64, installed with the registry signature', async () => {
  const tofu = await ensureTool('tofu');
  const work = join(dir, 'provider-work');
  await run('mkdir', ['-p', join(work, 'home')]);
  await writeFile(
    join(work, 'main.tf'),
    'terraform {\n  required_providers {\n    hello = {\n      source  = "opendepot.test/opendepot-system/hello"\n      version = "~> 1.1"\n    }\n  }\n}\n',
  );
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
  const stillServing = await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false);
  assert.not.ok(stillServing, 'the server still listens');
});

test.run();
