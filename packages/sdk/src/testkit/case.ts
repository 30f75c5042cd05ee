/** The shape every conformance suite of the testkit hands out, whatever the plugin kind. */

/**
 * One conformance check, independent of any test framework: `run` resolves when the plugin
 * conforms and rejects (with a `node:assert` `AssertionError`, or the plugin's own error) when
 * it does not.
 *
 * @example
 * // uvu
 * for (const c of cases) test(c.name, c.run);
 * // node:test
 * for (const c of cases) it(c.name, c.run);
 */
export interface ConformanceCase<Id extends string = string> {
  /** Stable identifier, e.g. `round-trip`; safe to filter on. */
  readonly id: Id;
  /** Human-readable test name, e.g. `storage: put then get returns the same bytes`. */
  readonly name: string;
  /** Runs the check. Takes no arguments and needs no `this`, so it can be passed as is. */
  readonly run: () => Promise<void>;
}
