/**
 * The UI's one stylesheet and one script (copy buttons), served from memory with a strong ETag,
 * under the page's Content-Security-Policy (scripts and styles from this origin only).
 */
import { createHash } from 'node:crypto';
import type { Context } from 'koa';

const CSS = `:root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--accent:#3056d3;--bg:#fff;--code:#f5f6f8}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;gap:1rem;align-items:center;padding:.75rem 1.5rem;border-bottom:1px solid var(--line);flex-wrap:wrap}
.brand{font-weight:700;font-size:1.1rem;color:var(--fg);text-decoration:none}
.search{display:flex;gap:.5rem;flex:1;max-width:40rem}.search input{flex:1;padding:.4rem .6rem;border:1px solid var(--line);border-radius:6px;font:inherit}
button,.button{padding:.4rem .8rem;border:1px solid var(--accent);background:var(--accent);color:#fff;border-radius:6px;font:inherit;cursor:pointer;text-decoration:none;display:inline-block}
.account{margin-left:auto}.who{color:var(--muted);margin-right:.5rem}
main{max-width:72rem;margin:0 auto;padding:1.5rem}
a{color:var(--accent)}.muted{color:var(--muted)}.lead{font-size:1.1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}th{font-weight:600;color:var(--muted)}
.description{max-width:28rem}.kind{font-size:.8rem;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.filters{display:flex;gap:1rem;align-items:center;flex-wrap:wrap;margin-bottom:.5rem}.filters select{font:inherit;padding:.25rem}
.badge{display:inline-block;padding:0 .45rem;border-radius:999px;font-size:.8rem;background:var(--code);border:1px solid var(--line)}
.badge.critical{background:#fde8e8;border-color:#f5b5b5;color:#9b1c1c}.badge.high{background:#fdf0e1;border-color:#f5cf9f;color:#8a4b08}
.badge.medium{background:#fdf8e1;border-color:#efe09a}.badge.low{background:#eef4ff;border-color:#c7d7fe}.badge.clean{background:#e7f6ec;border-color:#a6dcb8;color:#17643a}
.badge.required{background:#eef4ff;border-color:#c7d7fe}
.versions{margin:1rem 0;display:flex;gap:.6rem;flex-wrap:wrap}.versions .unservable{color:var(--muted)}
.snippet{border:1px solid var(--line);border-radius:8px;margin:1rem 0;overflow:hidden}.snippet-head{display:flex;justify-content:space-between;align-items:center;padding:.4rem .6rem;background:var(--code);border-bottom:1px solid var(--line)}
.snippet pre{margin:0;padding:.8rem;overflow:auto}pre,code{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace}
.markdown pre{background:var(--code);padding:.8rem;border-radius:6px;overflow:auto}.markdown img{max-width:100%}
.pages{display:flex;gap:1rem;align-items:center}.empty{padding:2rem 0}
`;

const JS = `document.addEventListener('click', function (event) {
  var button = event.target instanceof Element ? event.target.closest('button[data-copy]') : null;
  if (!button) return;
  var code = document.getElementById(button.getAttribute('data-copy'));
  if (!code || !navigator.clipboard) return;
  navigator.clipboard.writeText(code.textContent || '').then(function () {
    button.textContent = 'Copied';
    setTimeout(function () { button.textContent = 'Copy'; }, 1500);
  });
});
`;

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const asset = (text: string, type: string): Asset => {
  const body = Buffer.from(text);
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
};

const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ['app.css', asset(CSS, 'text/css; charset=utf-8')],
  ['app.js', asset(JS, 'text/javascript; charset=utf-8')],
]);

/** Answers `name` when it is one of the assets; false otherwise. */
export function sendAsset(ctx: Context, name: string): boolean {
  const found = ASSETS.get(name);
  if (!found) return false;
  ctx.set('ETag', found.etag);
  ctx.set('Cache-Control', 'public, max-age=300');
  if (ctx.get('If-None-Match') === found.etag) {
    ctx.status = 304;
    return true;
  }
  ctx.type = found.type;
  ctx.body = found.body;
  return true;
}
