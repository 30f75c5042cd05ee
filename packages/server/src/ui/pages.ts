/**
 * The browse UI's pages, rendered on the server: plain HTML and one small stylesheet and script
 * (copy buttons), no front-end framework, nothing that can change anything. Every value from
 * the cluster or a module goes through {@link html}'s escaping; the README through the sanitizing
 * renderer.
 */
import type { ModuleDocs } from '@opendepot/core';
import type { CatalogEntry, FindingCounts, ListQuery } from './browse-index.ts';
import type { ModuleDetail, ProviderDetail, ShownScan } from './details.ts';
import { html, type SafeHtml } from './html.ts';

/** Where the UI lives. */
export const UI_PATH = '/ui';

/** Who is looking, for the header. */
export interface Viewer {
  subject?: string;
  signedIn: boolean;
  /** Where to sign in, when the registry offers browser sign-in. */
  loginUrl?: string;
  logoutUrl?: string;
}

/** One page of the list. */
export interface ListPage {
  items: CatalogEntry[];
  total: number;
  page: number;
  pageSize: number;
  namespaces: string[];
}

const enc = encodeURIComponent;

/** The URL of a module's page. */
export function moduleUrl(namespace: string, name: string, provider: string, version?: string): string {
  return `${UI_PATH}/modules/${enc(namespace)}/${enc(name)}/${enc(provider)}${version !== undefined ? `?version=${enc(version)}` : ''}`;
}

/** The URL of a provider's page. */
export function providerUrl(namespace: string, type: string, version?: string): string {
  return `${UI_PATH}/providers/${enc(namespace)}/${enc(type)}${version !== undefined ? `?version=${enc(version)}` : ''}`;
}

function layout(title: string, viewer: Viewer, body: SafeHtml, query: ListQuery = {}): SafeHtml {
  const account = viewer.signedIn
    ? html`<span class="who">${viewer.subject}</span>${viewer.logoutUrl ? html` <a href="${viewer.logoutUrl}">Sign out</a>` : ''}`
    : viewer.loginUrl
      ? html`<a class="button" href="${viewer.loginUrl}">Sign in</a>`
      : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · OpenDepot</title>
<link rel="stylesheet" href="${UI_PATH}/assets/app.css">
<link rel="icon" href="data:,">
<script src="${UI_PATH}/assets/app.js" defer></script>
</head>
<body>
<header>
  <a class="brand" href="${UI_PATH}/">OpenDepot</a>
  <form class="search" action="${UI_PATH}/" method="get" role="search">
    <input type="search" name="q" value="${query.q ?? ''}" placeholder="Search modules and providers" aria-label="Search">
    <button type="submit">Search</button>
  </form>
  <nav class="account">${account}</nav>
</header>
<main>
${body}
</main>
</body>
</html>
`;
}

function findingBadges(counts: FindingCounts | undefined): SafeHtml {
  if (!counts) return html`<span class="muted">not scanned</span>`;
  const shown = (['critical', 'high', 'medium', 'low'] as const).filter((s) => counts[s] > 0);
  if (shown.length === 0) return html`<span class="badge clean">no findings</span>`;
  return html`${shown.map((s) => html`<span class="badge ${s}">${counts[s]} ${s}</span> `)}`;
}

function copyable(id: string, text: string, label: string): SafeHtml {
  return html`<div class="snippet"><div class="snippet-head"><span>${label}</span><button type="button" class="copy" data-copy="${id}">Copy</button></div><pre><code id="${id}">${text}</code></pre></div>`;
}

/** The list of modules and providers. */
export function listPage(viewer: Viewer, query: ListQuery, page: ListPage): SafeHtml {
  const rows = page.items.map((e) =>
    e.kind === 'module'
      ? html`<tr><td><span class="kind">module</span></td><td><a href="${moduleUrl(e.namespace, e.name, e.provider)}">${e.name}</a> <span class="muted">/ ${e.provider}</span></td><td>${e.namespace}</td><td>${e.latest ?? '—'}</td><td class="description">${e.description ?? ''}</td><td>${findingBadges(e.findings)}</td></tr>`
      : html`<tr><td><span class="kind">provider</span></td><td><a href="${providerUrl(e.namespace, e.type)}">${e.type}</a></td><td>${e.namespace}</td><td>${e.latest ?? '—'}</td><td class="description">${e.platforms.join(', ')}</td><td>${findingBadges(e.findings)}</td></tr>`,
  );
  const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
  const link = (p: number) => {
    const params = new URLSearchParams();
    if (query.q) params.set('q', query.q);
    if (query.namespace) params.set('namespace', query.namespace);
    if (query.kind) params.set('kind', query.kind);
    if (query.withFindings) params.set('findings', '1');
    params.set('page', String(p));
    return `${UI_PATH}/?${params.toString()}`;
  };
  const body = html`<h1>Modules and providers</h1>
<form class="filters" action="${UI_PATH}/" method="get">
  <input type="hidden" name="q" value="${query.q ?? ''}">
  <label>Namespace <select name="namespace"><option value="">all</option>${page.namespaces.map((n) => html`<option value="${n}"${query.namespace === n ? html` selected` : ''}>${n}</option>`)}</select></label>
  <label>Kind <select name="kind"><option value="">all</option><option value="module"${query.kind === 'module' ? html` selected` : ''}>modules</option><option value="provider"${query.kind === 'provider' ? html` selected` : ''}>providers</option></select></label>
  <label><input type="checkbox" name="findings" value="1"${query.withFindings ? html` checked` : ''}> with findings</label>
  <button type="submit">Filter</button>
</form>
<p class="muted" id="result-count">${page.total} result${page.total === 1 ? '' : 's'}</p>
${
  page.items.length === 0
    ? html`<p class="empty">Nothing matches${query.q ? html` “${query.q}”` : ''}.</p>`
    : html`<table class="catalog"><thead><tr><th>Kind</th><th>Name</th><th>Namespace</th><th>Latest</th><th>Description</th><th>Findings</th></tr></thead><tbody>${rows}</tbody></table>`
}
${pages > 1 ? html`<nav class="pages">${page.page > 1 ? html`<a href="${link(page.page - 1)}">Previous</a>` : ''} <span>Page ${page.page} of ${pages}</span> ${page.page < pages ? html`<a href="${link(page.page + 1)}">Next</a>` : ''}</nav>` : ''}`;
  return layout('Browse', viewer, body, query);
}

function scanSection(scan: ShownScan | undefined, heading = 'Security scan'): SafeHtml {
  if (!scan) return html`<section><h2>${heading}</h2><p class="muted">This version was not scanned.</p></section>`;
  return html`<section class="scan"><h2>${heading}</h2>
<p>${findingBadges(scan.counts)} ${scan.blocked ? html`<span class="badge critical">blocked: not served</span>` : ''} <span class="muted">${scan.scanner ?? ''}${scan.scannedAt ? html`, ${scan.scannedAt}` : ''}</span></p>
${
  scan.findings.length > 0
    ? html`<table><thead><tr><th>Finding</th><th>Severity</th><th>Package</th><th>Installed</th><th>Fixed in</th></tr></thead><tbody>${scan.findings.map((f) => html`<tr><td>${f.id}</td><td><span class="badge ${f.severity.toLowerCase()}">${f.severity}</span></td><td>${f.pkg ?? ''}</td><td>${f.installedVersion ?? ''}</td><td>${f.fixedVersion ?? ''}</td></tr>`)}</tbody></table>`
    : ''
}
${scan.ignored.length > 0 ? html`<h3>Exemptions</h3><ul>${scan.ignored.map((i) => html`<li>${i.id} until ${i.expires}: ${i.reason}</li>`)}</ul>` : ''}
</section>`;
}

function defaultText(value: unknown): string {
  return value === undefined ? '' : JSON.stringify(value);
}

function inputsSection(docs: ModuleDocs): SafeHtml {
  if (docs.inputs.length === 0) return html`<section><h2>Inputs</h2><p class="muted">This module declares no inputs.</p></section>`;
  return html`<section><h2>Inputs</h2><table class="inputs"><thead><tr><th>Name</th><th>Type</th><th>Default</th><th>Description</th></tr></thead><tbody>${docs.inputs.map(
    (i) =>
      html`<tr><td><code>${i.name}</code>${i.required ? html` <span class="badge required">required</span>` : ''}${i.sensitive ? html` <span class="badge">sensitive</span>` : ''}</td><td><code>${i.type ?? 'any'}</code></td><td>${i.required ? '' : html`<code>${defaultText(i.default)}</code>`}</td><td>${i.description ?? ''}</td></tr>`,
  )}</tbody></table></section>`;
}

function outputsSection(docs: ModuleDocs): SafeHtml {
  if (docs.outputs.length === 0) return html`<section><h2>Outputs</h2><p class="muted">This module declares no outputs.</p></section>`;
  return html`<section><h2>Outputs</h2><table class="outputs"><thead><tr><th>Name</th><th>Description</th></tr></thead><tbody>${docs.outputs.map(
    (o) => html`<tr><td><code>${o.name}</code>${o.sensitive ? html` <span class="badge">sensitive</span>` : ''}</td><td>${o.description ?? ''}</td></tr>`,
  )}</tbody></table></section>`;
}

function versionLinks(versions: readonly { version: string; state: string }[], selected: string | undefined, url: (v: string) => string): SafeHtml {
  return html`<nav class="versions" aria-label="Versions">${versions.map((v) =>
    v.version === selected ? html`<strong>${v.version}</strong> ` : html`<a href="${url(v.version)}"${v.state !== 'ready' ? html` class="unservable" title="${v.state}"` : ''}>${v.version}</a> `,
  )}</nav>`;
}

/** A module's page. */
export function modulePage(viewer: Viewer, detail: ModuleDetail, renderReadme: (markdown: string) => SafeHtml): SafeHtml {
  const { entry, selected } = detail;
  const docs = selected?.docs;
  const body = html`<h1>${entry.name} <span class="muted">/ ${entry.provider}</span></h1>
<p class="muted">Module in namespace ${entry.namespace}${selected ? html` · version ${selected.version}${selected.state !== 'ready' ? html` (${selected.state})` : ''}` : ''}</p>
${entry.description ? html`<p class="lead">${entry.description}</p>` : ''}
${versionLinks(detail.versions, selected?.version, (v) => moduleUrl(entry.namespace, entry.name, entry.provider, v))}
${copyable('usage', detail.usage, 'Usage')}
${
  docs
    ? html`${inputsSection(docs)}${outputsSection(docs)}
${docs.requiredProviders.length > 0 ? html`<section><h2>Required providers</h2><ul>${docs.requiredProviders.map((p) => html`<li><code>${p.name}</code> ${p.source ?? ''} ${p.version ?? ''}</li>`)}</ul>${docs.requiredVersion ? html`<p>Requires OpenTofu/Terraform ${docs.requiredVersion}</p>` : ''}</section>` : ''}
${docs.problems.length > 0 ? html`<section><h2>Not documented</h2><ul>${docs.problems.map((p) => html`<li>${p}</li>`)}</ul></section>` : ''}
<section class="readme"><h2>README</h2>${docs.readme ? html`<article class="markdown">${renderReadme(docs.readme.markdown)}</article>${docs.readme.truncated ? html`<p class="muted">The README is cut here.</p>` : ''}` : html`<p class="muted">This module has no README.</p>`}</section>`
    : html`<section><p class="muted">${selected ? 'The documentation of this version is not available yet.' : 'No version of this module is available yet.'}</p></section>`
}
${selected ? scanSection(selected.scan) : ''}`;
  return layout(`${entry.name}/${entry.provider}`, viewer, body);
}

/** A provider's page. */
export function providerPage(viewer: Viewer, detail: ProviderDetail): SafeHtml {
  const { entry, selected } = detail;
  const body = html`<h1>${entry.type} <span class="muted">provider</span></h1>
<p class="muted">Provider in namespace ${entry.namespace}${selected ? html` · version ${selected.version}` : ''}${detail.signingKeyId ? html` · signed by key ${detail.signingKeyId}` : ''}</p>
${versionLinks(
  detail.versions.map((v) => ({ version: v.version, state: v.platforms.some((p) => p.state === 'ready') ? 'ready' : 'syncing' })),
  selected?.version,
  (v) => providerUrl(entry.namespace, entry.type, v),
)}
${copyable('required-providers', detail.requiredProviders, 'required_providers')}
${copyable('network-mirror', detail.networkMirror, 'Network mirror (CLI configuration)')}
${
  selected
    ? html`<section><h2>Platforms</h2><table><thead><tr><th>Platform</th><th>State</th><th>Findings</th></tr></thead><tbody>${selected.platforms.map(
        (p) => html`<tr><td>${p.platform}</td><td>${p.state}</td><td>${findingBadges(p.scan?.counts)}</td></tr>`,
      )}</tbody></table></section>
${selected.platforms.filter((p) => p.scan && p.scan.findings.length > 0).map((p) => scanSection(p.scan, `Findings: ${p.platform}`))}`
    : html`<p class="muted">No version of this provider is available yet.</p>`
}`;
  return layout(entry.type, viewer, body);
}

/** What the UI answers for anything it will not show: the same page whether it exists or not. */
export function notFoundPage(viewer: Viewer): SafeHtml {
  return layout(
    'Not found',
    viewer,
    html`<h1>Not found</h1><p>There is nothing here that you may see.${viewer.signedIn || !viewer.loginUrl ? '' : html` <a href="${viewer.loginUrl}">Sign in</a> to see more.`}</p>`,
  );
}

/** The page for a caller the registry does not know, when anonymous access is off. */
export function signInPage(viewer: Viewer): SafeHtml {
  return layout(
    'Sign in',
    viewer,
    html`<h1>Sign in</h1><p>This registry needs you to sign in.${viewer.loginUrl ? html` <a class="button" href="${viewer.loginUrl}">Sign in</a>` : ' Browser sign-in is not configured; use tofu login.'}</p>`,
  );
}
