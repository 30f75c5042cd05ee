/** Running a check against a fresh plugin instance, and always closing and cleaning up after it. */

/**
 * Creates an instance, runs `body`, then closes the instance and runs `cleanup`, whatever
 * happened; the first error wins.
 */
export async function withInstance<I extends { close?(): Promise<void> }, T>(create: () => Promise<I> | I, body: (instance: I) => Promise<T>, cleanup?: () => Promise<void> | void): Promise<T> {
  let instance: I | undefined;
  let result: { ok: true; value: T } | { ok: false; err: unknown };
  try {
    instance = await create();
    result = { ok: true, value: await body(instance) };
  } catch (err) {
    result = { ok: false, err };
  }
  for (const step of [() => instance?.close?.(), () => cleanup?.()]) {
    try {
      await step();
    } catch (err) {
      if (result.ok) result = { ok: false, err };
    }
  }
  if (!result.ok) throw result.err;
  return result.value;
}
