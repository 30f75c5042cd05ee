/**
 * The worker thread that parses HCL with HashiCorp's own parser (hcl v2 compiled to WebAssembly,
 * via @cdktf/hcl2json). It lives in a worker so the ~60 MB the WebAssembly runtime takes are
 * freed when the worker is terminated after a quiet while, instead of staying in the operator.
 */
import { parentPort } from 'node:worker_threads';
import { parse } from '@cdktf/hcl2json';

interface ParseRequest {
  id: number;
  filename: string;
  text: string;
}

parentPort?.on('message', (request: ParseRequest) => {
  parse(request.filename, request.text).then(
    (value: unknown) => parentPort?.postMessage({ id: request.id, value }),
    (err: unknown) => parentPort?.postMessage({ id: request.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
