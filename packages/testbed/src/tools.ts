/**
 * Finds or builds the real binaries the tests use. A binary already on PATH (or in
 * KUBEBUILDER_ASSETS) is used when its version fits; otherwise tools/build-tool.sh builds it
 * from the Go module proxy into ${OPENDEPOT_TOOLS_DIR:-~/.cache/opendepot/tools}.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runPathScript } from './script-output.ts';

const execFileAsync = promisify(execFile);

/** The tools the test bed knows how to provide. */
export type ToolName =
  | 'etcd'
  | 'kube-apiserver'
  | 'kubectl'
  | 'kubelet'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kube-proxy'
  | 'coredns'
  | 'tofu'
  | 'terraform'
  | 'helm'
  | 'dex'
  | 'minio'
  | 'fake-gcs-server'
  | 'trivy';

interface ToolSpec {
  /** Arguments that make the binary print its version. */
  versionArgs: string[];
  /** Whether that output is a version we accept. */
  fits: (output: string) => boolean;
}

const SPECS: Record<ToolName, ToolSpec> = {
  etcd: { versionArgs: ['--version'], fits: (o) => /etcd Version: 3\.5\./.test(o) },
  'kube-apiserver': { versionArgs: ['--version'], fits: (o) => /Kubernetes v1\.(3[3-9]|[4-9]\d)\./.test(o) },
  // Any kubectl within the supported skew of the API server (1.33); built at its version when the machine has none.
  kubectl: { versionArgs: ['version', '--client'], fits: (o) => /Client Version: v1\.3[2-4]\./.test(o) },
  // The node components of the real-cluster test bed, at the API server's minor version.
  kubelet: { versionArgs: ['--version'], fits: (o) => /Kubernetes v1\.33\./.test(o) },
  'kube-controller-manager': { versionArgs: ['--version'], fits: (o) => /Kubernetes v1\.33\./.test(o) },
  'kube-scheduler': { versionArgs: ['--version'], fits: (o) => /Kubernetes v1\.33\./.test(o) },
  'kube-proxy': { versionArgs: ['--version'], fits: (o) => /Kubernetes v1\.33\./.test(o) },
  coredns: { versionArgs: ['-version'], fits: (o) => /CoreDNS-1\.1[2-9]\./.test(o) },
  tofu: { versionArgs: ['version'], fits: (o) => /OpenTofu v1\.12\./.test(o) },
  terraform: { versionArgs: ['version'], fits: (o) => /Terraform v1\.5\.7/.test(o) },
  helm: { versionArgs: ['version', '--short'], fits: (o) => /^v3\./m.test(o) },
  dex: { versionArgs: ['version'], fits: (o) => /v2\./.test(o) },
  minio: { versionArgs: ['--version'], fits: (o) => /minio version/i.test(o) },
  'fake-gcs-server': { versionArgs: ['-help'], fits: () => true },
  trivy: { versionArgs: ['--version'], fits: (o) => /Version: 0\.7/.test(o) },
};

/** Where built tools are cached. */
export function toolsDir(): string {
  return process.env.OPENDEPOT_TOOLS_DIR ?? join(homedir(), '.cache', 'opendepot', 'tools');
}

const BUILD_SCRIPT = fileURLToPath(new URL('../tools/build-tool.sh', import.meta.url));
const resolved = new Map<ToolName, Promise<string>>();

async function versionFits(path: string, spec: ToolSpec): Promise<boolean> {
  try {
    const { stdout, stderr } = await execFileAsync(path, spec.versionArgs, { timeout: 20_000 });
    return spec.fits(stdout + stderr);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return spec.fits(`${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

function candidates(name: ToolName): string[] {
  const dirs = [process.env.KUBEBUILDER_ASSETS, ...(process.env.PATH ?? '').split(delimiter)].filter((d): d is string => Boolean(d));
  return dirs.map((d) => join(d, name)).filter((p) => existsSync(p));
}

function build(name: ToolName): Promise<string> {
  return runPathScript(BUILD_SCRIPT, [name], (code) => `building ${name} failed (exit ${code}); see ${join(toolsDir(), 'logs', `${name}.log`)}`);
}

async function find(name: ToolName): Promise<string> {
  const spec = SPECS[name];
  for (const path of candidates(name)) {
    if (await versionFits(path, spec)) return path;
  }
  return build(name);
}

/** The path of a fitting binary of `name`, building it on first use. */
export function ensureTool(name: ToolName): Promise<string> {
  let p = resolved.get(name);
  if (!p) {
    const fromEnv = process.env[`OPENDEPOT_${name.toUpperCase().replace(/-/g, '_')}_BIN`];
    p = fromEnv && existsSync(fromEnv) ? Promise.resolve(fromEnv) : find(name);
    resolved.set(name, p);
  }
  return p;
}

/** The environment variable that carries a tool's path to test processes. */
export function toolEnvName(name: ToolName): string {
  return `OPENDEPOT_${name.toUpperCase().replace(/-/g, '_')}_BIN`;
}
