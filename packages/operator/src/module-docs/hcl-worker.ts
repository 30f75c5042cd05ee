/**
 * The worker thread that parses HCL with HashiCorp's own parser (hcl v2 compiled to WebAssembly,
 * via @cdktf/hcl2json). It lives in a worker so the ~60 MB the WebAssembly runtime takes are
 * freed when the worker is terminated after a quiet while, instead of staying in the operator.
 */
import { setFlagsFromString } from 'node:v8';
import { parentPort } from 'node:worker_threads';

// V8 compiles WebAssembly twice by default: a quick baseline (Liftoff), then an optimizing tier in
// the background. For this parser the second tier costs ~40 MB and makes no parse faster (a first
// parse takes 0.7 s instead of 1.4 s without it; 200 parses take the same). Only this worker runs
// WebAssembly, so the process-wide flag changes nothing else; it must be set before compiling.
setFlagsFromString('--liftoff-only');
const { parse } = await import('@cdktf/hcl2json');

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
