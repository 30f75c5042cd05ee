/**
 * README rendering for the browse UI, safe by construction: markdown-it with raw HTML off (any
 * `<script>` or `onerror=` in a README is shown as text), links only to http(s), mailto and
 * relative URLs (never `javascript:` or `data:`), links opened without a referrer, and images
 * only from `data:image/` (inline) unless remote images are allowed: a remote image is shown as
 * a link instead, so reading a README tells nobody who read it.
 */
import MarkdownIt from 'markdown-it';
import { SafeHtml } from './html.ts';

/** Options of {@link readmeRenderer}. */
export interface ReadmeOptions {
  /** Show images from remote URLs (default false: they become links). */
  remoteImages?: boolean;
}

const SAFE_LINK = /^(https?:|mailto:|#|\/|\.{0,2}\/|[^:]*$)/i;
const INLINE_IMAGE = /^data:image\/(png|gif|jpeg|webp);/i;

/** Renders README markdown into sanitized HTML. */
export type ReadmeRenderer = (markdown: string) => SafeHtml;

/** A renderer of README markdown into sanitized HTML. */
export function readmeRenderer(options: ReadmeOptions = {}): ReadmeRenderer {
  const md = new MarkdownIt({ html: false, linkify: true, typographer: false });
  // markdown-it refuses javascript:, vbscript:, file: and most data: itself; this narrows it further.
  const defaultValidate = md.validateLink.bind(md);
  md.validateLink = (url: string) => {
    const trimmed = url.trim();
    if (INLINE_IMAGE.test(trimmed)) return true;
    return defaultValidate(trimmed) && SAFE_LINK.test(trimmed);
  };
  const renderLink = md.renderer.rules.link_open ?? ((tokens, idx, opts, _env, self) => self.renderToken(tokens, idx, opts));
  md.renderer.rules.link_open = (tokens, idx, opts, env, self) => {
    tokens[idx]!.attrSet('rel', 'noopener noreferrer nofollow');
    return renderLink(tokens, idx, opts, env, self);
  };
  md.renderer.rules.image = (tokens, idx, opts, env, self) => {
    const token = tokens[idx]!;
    const src = String(token.attrGet('src') ?? '');
    const alt = self.renderInlineAsText(token.children ?? [], opts, env);
    if (INLINE_IMAGE.test(src) || (options.remoteImages === true && /^https:/i.test(src))) {
      token.attrSet('alt', alt);
      token.attrSet('loading', 'lazy');
      token.attrSet('referrerpolicy', 'no-referrer');
      return self.renderToken(tokens, idx, opts);
    }
    // A remote image not fetched: its alt text, linking to it.
    const escapedSrc = md.utils.escapeHtml(src);
    return `<a class="remote-image" href="${escapedSrc}" rel="noopener noreferrer nofollow">${md.utils.escapeHtml(alt || 'image')}</a>`;
  };
  return (markdown) => new SafeHtml(md.render(markdown));
}
