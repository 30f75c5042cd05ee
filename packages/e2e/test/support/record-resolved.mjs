/**
 * Preloaded with `--import`: records the URL of every module the process resolves and writes
 * them, one a line, to $RECORD_RESOLVED_TO when it exits. Lets a test see what an entry loads.
 */
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const resolved = new Set();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    resolved.add(result.url);
    return result;
  },
});
process.on('exit', () => writeFileSync(process.env.RECORD_RESOLVED_TO, [...resolved].join('\n')));
