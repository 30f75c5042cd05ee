/**
 * A single-member etcd on loopback with free ports, as the control plane and the cluster test
 * bed run it: no fsync (test data only), errors-only logging.
 */
import { freePort } from './ports.ts';
import { startProcess, waitFor, type ManagedProcess } from './processes.ts';
import { ensureTool } from './tools.ts';

/** Options of {@link startEtcd}. */
export interface EtcdOptions {
  /** The etcd binary; default the test bed's ({@link ensureTool}). */
  bin?: string;
  /**
   * Called with the process as soon as it is spawned, before /health answers: a caller that
   * tears down what it started (in reverse) registers it here, so a failed start is cleaned up too.
   */
  onStart?: (process: ManagedProcess) => void;
}

/** A started etcd. */
export interface Etcd {
  process: ManagedProcess;
  /** The client URL, `http://127.0.0.1:<port>`. */
  url: string;
}

/**
 * Starts etcd with its data in `dataDir` and its output appended to `logFile`, and resolves once
 * `/health` answers OK (within 30 s). Without `onStart`, a start that never becomes healthy is
 * stopped before the error is thrown.
 */
export async function startEtcd(dataDir: string, logFile: string, options: EtcdOptions = {}): Promise<Etcd> {
  const bin = options.bin ?? (await ensureTool('etcd'));
  const [port, peerPort] = await Promise.all([freePort(), freePort()]);
  const url = `http://127.0.0.1:${port}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const etcd = startProcess(
    bin,
    [
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      '--unsafe-no-fsync=true',
      '--log-level=error',
    ],
    { logFile },
  );
  options.onStart?.(etcd);
  try {
    await waitFor('etcd /health', async () => (await fetch(`${url}/health`)).ok, 30_000);
  } catch (err) {
    if (!options.onStart) await etcd.stop().catch(() => undefined);
    throw err;
  }
  return { process: etcd, url };
}
