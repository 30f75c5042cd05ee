/** Runs kubectl (the machine's, or one built at the API server's version) against a test control plane. */
import { spawn } from 'node:child_process';
import { ensureTool } from './tools.ts';

/** What a kubectl run printed. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `kubectl <args>` with the plane's kubeconfig; `input` is piped to stdin. */
export async function kubectl(plane: { kubeconfigPath: string }, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
  const binary = await ensureTool('kubectl');
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      env: { ...process.env, KUBECONFIG: plane.kubeconfigPath },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `kubectl <args>` and returns its stdout; a non-zero exit throws with kubectl's stderr. */
export async function kubectlOk(plane: { kubeconfigPath: string }, args: string[], input?: string): Promise<string> {
  const r = await kubectl(plane, args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
