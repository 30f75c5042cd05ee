/** Configuration overrides merged over a base, the way the tests layer theirs over defaults. */

/** `b` over `a`: objects merge key by key, anything else (arrays included) replaces. */
export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const av = out[k];
    out[k] = av && typeof av === 'object' && !Array.isArray(av) && v && typeof v === 'object' && !Array.isArray(v) ? deepMerge(av as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}
