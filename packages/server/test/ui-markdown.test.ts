/**
 * README rendering is inert whatever the README holds: raw HTML is text, only http(s), mailto and
 * relative links are links, remote images are links unless allowed; and html`` escapes values.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { html, SafeHtml } from '../src/ui/html.ts';
import { readmeRenderer } from '../src/ui/markdown.ts';

const render = readmeRenderer();
const out = (markdown: string) => render(markdown).value;

test('raw HTML (script, event attributes, iframes, styles) is shown as text', () => {
  for (const hostile of [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '<iframe src="https://evil.example"></iframe>',
    '<a href="javascript:alert(1)">x</a>',
    '<svg onload=alert(1)>',
    '<style>body{display:none}</style>',
  ]) {
    const rendered = out(`before\n\n${hostile}\n\nafter`);
    // Its own tag never appears as markup (a URL inside it may still be linkified text).
    const tag = /^<(\w+)/.exec(hostile)![1]!;
    assert.not.match(rendered, new RegExp(`<${tag}\\b`, 'i'), hostile);
    assert.not.match(rendered, /<[^>]*\son\w+=/i, hostile);
    assert.match(rendered, /&lt;/, hostile);
  }
});

test('links: http(s), mailto, anchors and relative paths are links (no referrer); javascript:, vbscript:, data: and file: are not', () => {
  assert.match(out('[a](https://example.com/x)'), '<a href="https://example.com/x" rel="noopener noreferrer nofollow">a</a>');
  assert.match(out('[a](mailto:team@example.com)'), 'href="mailto:team@example.com"');
  assert.match(out('[a](#usage)'), 'href="#usage"');
  assert.match(out('[a](docs/usage.md)'), 'href="docs/usage.md"');
  for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'vbscript:x', 'data:text/html;base64,PHNjcmlwdD4=', 'file:///etc/passwd', 'java\tscript:alert(1)']) {
    assert.not.match(out(`[a](${bad})`), /<a /, bad);
  }
  assert.not.match(out('<javascript:alert(1)>'), /<a /);
});

test('images: remote ones become links (nothing fetched), inline data images stay; remoteImages allows https ones', () => {
  assert.match(out('![logo](https://tracker.example.com/p.png)'), '<a class="remote-image" href="https://tracker.example.com/p.png" rel="noopener noreferrer nofollow">logo</a>');
  assert.not.match(out('![logo](https://tracker.example.com/p.png)'), /<img/);
  assert.match(out('![dot](data:image/png;base64,iVBORw0KGgo=)'), /<img src="data:image\/png;base64,iVBORw0KGgo="/);
  assert.not.match(out('![x](data:image/svg+xml;base64,PHN2Zz4=)'), /<img/);
  assert.match(
    readmeRenderer({ remoteImages: true })('![logo](https://cdn.example.com/p.png)').value,
    /<img src="https:\/\/cdn\.example\.com\/p\.png" alt="logo" loading="lazy" referrerpolicy="no-referrer">/,
  );
  assert.not.match(readmeRenderer({ remoteImages: true })('![logo](http://cdn.example.com/p.png)').value, /<img/);
});

test('html`` escapes every interpolated value except SafeHtml, and leaves out nullish and false', () => {
  const value = `"><script>x</script>'&`;
  assert.is(html`<a title="${value}">${value}</a>`.value, '<a title="&quot;&gt;&lt;script&gt;x&lt;/script&gt;&#39;&amp;">&quot;&gt;&lt;script&gt;x&lt;/script&gt;&#39;&amp;</a>');
  assert.is(html`<p>${new SafeHtml('<b>ok</b>')}${[html`<i>${'<'}</i>`, '&']}${undefined}${null}${false}${0}</p>`.value, '<p><b>ok</b><i>&lt;</i>&amp;0</p>');
});

test.run();
