/** Messages between a benchmark and the server process it started. */
import type { ChildProcess } from 'node:child_process';

/** Sends `message` to `child` and resolves with its next reply of type `type`. */
export function askChild<R extends { type: string }>(child: ChildProcess, message: object, type: R['type']): Promise<R> {
  return new Promise((resolve) => {
    const onMessage = (reply: R) => {
      if (reply.type !== type) return;
      child.off('message', onMessage);
      resolve(reply);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}
