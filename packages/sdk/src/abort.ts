/** Honouring an AbortSignal even while waiting on something that ignores it: a helper for plugin authors. */

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as it aborts. Use it around
 * a vendor call that takes no AbortSignal, so a storage plugin honours aborts promptly (the
 * conformance kit checks it).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined); // settled later by nobody: keep it from being unhandled
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
