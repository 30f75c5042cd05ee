/**
 * Parses HCL files to JSON (the shape of `hcl2json`: blocks as maps of lists, expressions as
 * `${...}` strings) in a worker thread that is started on first use and terminated once idle, so
 * the parser's memory is only taken while modules are being documented.
 */
import { Worker } from 'node:worker_threads';

/** Terminated after this long without a request. */
const IDLE_MS = 30_000;
/** One file may take this long (the first includes compiling the parser). */
const PARSE_TIMEOUT_MS = 60_000;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** The worker's module: the TypeScript source when running from source, else the compiled file. */
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './hcl-worker.ts' : './hcl-worker.js', import.meta.url);

/** A lazily started, self-stopping HCL parser. */
export class HclParser {
  #worker: Worker | undefined;
  #idle: NodeJS.Timeout | undefined;
  #next = 0;
  readonly #pending = new Map<number, Pending>();

  /** The JSON form of the HCL `text` of `filename`; rejects with the parser's message (file:line,col) on a syntax error. */
  parse(filename: string, text: string): Promise<unknown> {
    const worker = this.#start();
    if (this.#idle) clearTimeout(this.#idle);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#fail(new Error(`parsing ${filename} took longer than ${PARSE_TIMEOUT_MS / 1000} s`)), PARSE_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, filename, text });
    });
  }

  /** Stops the worker now (pending parses are rejected). */
  async close(): Promise<void> {
    if (this.#idle) clearTimeout(this.#idle);
    const worker = this.#worker;
    this.#worker = undefined;
    this.#rejectAll(new Error('the HCL parser was closed'));
    await worker?.terminate();
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_URL);
    // Never what keeps the process alive.
    worker.unref();
    worker.on('message', (message: { id: number; value?: unknown; error?: string }) => {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.error !== undefined) pending.reject(new Error(message.error));
      else pending.resolve(message.value);
      if (this.#pending.size === 0) this.#idle = setTimeout(() => void this.close(), IDLE_MS).unref();
    });
    worker.on('error', (err) => this.#fail(err));
    worker.on('exit', () => {
      if (this.#worker === worker) this.#worker = undefined;
      this.#rejectAll(new Error('the HCL parser stopped'));
    });
    this.#worker = worker;
    return worker;
  }

  /** A stuck or crashed worker: everything waiting fails, and the next parse starts a new one. */
  #fail(err: Error): void {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#rejectAll(err);
    void worker?.terminate();
  }

  #rejectAll(err: Error): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(err);
      this.#pending.delete(id);
    }
  }
}
