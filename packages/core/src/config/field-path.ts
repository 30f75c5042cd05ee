/** Dotted field paths as users read them: `plugins[2].config.bucket`, `server.tls.certFile`. */

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

/** Appends one property name or array index to a dotted path. */
export function joinFieldPath(base: string, segment: string | number): string {
  if (typeof segment === 'number' || /^\d+$/.test(segment)) return `${base}[${segment}]`;
  if (!IDENTIFIER.test(segment)) return `${base}[${JSON.stringify(segment)}]`;
  return base === '' ? segment : `${base}.${segment}`;
}

/** Turns a JSON pointer (`/plugins/2/config`) into a dotted path under `base`. */
export function pointerToFieldPath(base: string, pointer: string): string {
  if (pointer === '') return base;
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<string>((path, segment) => joinFieldPath(path, segment), base);
}
