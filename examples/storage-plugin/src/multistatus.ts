/**
 * Just enough of a WebDAV `multistatus` (PROPFIND answer) reader for this plugin: the names of
 * the listed resources, and whether the requested one is a collection. Namespace prefixes vary
 * between servers (`D:`, `d:`, `lp1:`, none), so elements are matched by local name.
 */

const ELEMENT = (local: string): string => `<(?:[A-Za-z_][\\w.-]*:)?${local}(?:\\s[^>]*)?`;
const RESPONSE = new RegExp(`${ELEMENT('response')}>([\\s\\S]*?)</(?:[A-Za-z_][\\w.-]*:)?response\\s*>`, 'g');
const HREF = new RegExp(`${ELEMENT('href')}>([\\s\\S]*?)</(?:[A-Za-z_][\\w.-]*:)?href\\s*>`);
const COLLECTION = new RegExp(`${ELEMENT('collection')}/?>`);

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** One `response` of a multistatus. */
export interface ListedResource {
  /** The resource's URL path, as the server wrote it (percent-encoded). */
  path: string;
  /** The last segment of the path, decoded. */
  name: string;
  /** Whether its `resourcetype` says `collection`. */
  isCollection: boolean;
}

/** The resources a PROPFIND answer lists; `base` resolves relative hrefs. */
export function parseMultistatus(xml: string, base: string): ListedResource[] {
  const resources: ListedResource[] = [];
  for (const match of xml.matchAll(RESPONSE)) {
    const body = match[1]!;
    const href = HREF.exec(body)?.[1];
    if (href === undefined) continue;
    const path = new URL(decodeEntities(href.trim()), base).pathname;
    const segments = path.split('/').filter((s) => s !== '');
    const last = segments.at(-1) ?? '';
    resources.push({ path, name: safeDecode(last), isCollection: COLLECTION.test(body) });
  }
  return resources;
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return ENTITIES[entity] ?? whole;
  });
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // not ours: the layout's names need no escaping
  }
}
