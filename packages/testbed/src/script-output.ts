/** Running a test bed build script whose last line of stdout is the path of what it built. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Runs `bash script ...args` and resolves to the last line of its stdout, a path that must exist;
 * a failed script, an empty output or a missing path rejects with `describeFailure(exitCode)`.
 * The script's stderr (its progress lines) goes straight to ours, so a cold build never looks hung.
 */
export function runPathScript(script: string, args: readonly string[], describeFailure: (code: number | null) => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    // 'close', not 'exit': 'exit' can fire before stdout is drained, and a cached result's script
    // exits at once, so its path line would be lost.
    child.on('close', (code) => {
      const path = out.trim().split('\n').pop() ?? '';
      if (code === 0 && path && existsSync(path)) resolve(path);
      else reject(new Error(describeFailure(code)));
    });
  });
}
