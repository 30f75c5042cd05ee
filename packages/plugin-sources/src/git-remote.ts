/**
 * Which git remotes the git source may contact. Only https://, ssh:// and scp-like
 * `user@host:path` remotes; `file://` and local paths only when the operator allows them; never
 * option-like URLs or `<transport>::` remote helpers (such as `ext::`, which runs commands).
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '@opendepot/sdk';
import { redactUrl } from './subject.ts';

/** A remote that passed the checks. */
export interface GitRemote {
  /** What to pass to git. */
  url: string;
  protocol: 'https' | 'ssh' | 'file';
  /** Host name, lower case (absent for file remotes). */
  host?: string;
}

/** The policy of the git source. */
export interface GitRemotePolicy {
  /** Allow `file://` URLs and absolute local paths (the local quickstart uses them). Default false. */
  allowFileUrls?: boolean;
  /**
   * When set, https and ssh remotes must be on one of these hosts: exact names, or `*.example.com`
   * for any subdomain of example.com.
   */
  allowedHosts?: readonly string[];
}

const FIELD = 'spec.moduleConfig.repoUrl';
const SCP_LIKE = /^(?:([A-Za-z0-9._~-]+)@)?([A-Za-z0-9.-]+):(?!\/\/)(.+)$/;

/** Checks `url` against `policy`; throws InputError naming `moduleConfig.repoUrl` otherwise. */
export function checkGitRemote(url: string, policy: GitRemotePolicy = {}): GitRemote {
  const shown = redactUrl(url);
  const refuse = (why: string, hint?: string) => new InputError(`moduleConfig.repoUrl "${shown}" is refused: ${why}`, { field: FIELD, ...(hint ? { hint } : {}) });
  if (url.length === 0) throw refuse('it is empty');
  if (/[\s\u0000-\u001f\u007f]/.test(url)) throw refuse('it contains whitespace or control characters');
  if (url.startsWith('-')) throw refuse('it starts with "-", which git would read as an option');
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(url)) throw refuse('git remote helpers ("<transport>::") are not allowed');

  const fileHint = "allow them with the git source's allowFileUrls: true in the operator's configuration (meant for local setups such as the quickstart)";
  if (isAbsolute(url)) {
    if (!policy.allowFileUrls) throw refuse('local paths are not allowed', fileHint);
    return { url: pathToFileURL(url).toString(), protocol: 'file' };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw refuse('it is not a valid URL');
    }
    if (scheme === 'file') {
      if (!policy.allowFileUrls) throw refuse('file:// remotes are not allowed', fileHint);
      if (parsed.host !== '' && parsed.host !== 'localhost') throw refuse('a file:// URL must name a local path');
      return { url: parsed.toString(), protocol: 'file' };
    }
    if (scheme !== 'https' && scheme !== 'ssh') throw refuse(`the ${scheme}:// scheme is not allowed; use https://, ssh:// or git@host:owner/repo`);
    return withHost(url, scheme, parsed.hostname.replace(/^\[|\]$/g, ''), policy, refuse);
  }
  const scp = SCP_LIKE.exec(url);
  if (scp) {
    const [, , host = '', path = ''] = scp;
    if (path.startsWith('-')) throw refuse('its path starts with "-"');
    return withHost(url, 'ssh', host, policy, refuse);
  }
  throw refuse('use an https:// URL, an ssh:// URL or git@host:owner/repo');
}

function withHost(url: string, protocol: 'https' | 'ssh', rawHost: string, policy: GitRemotePolicy, refuse: (why: string, hint?: string) => InputError): GitRemote {
  const host = rawHost.toLowerCase();
  if (host === '' || host.startsWith('-')) throw refuse('it has no valid host');
  if (policy.allowedHosts && !policy.allowedHosts.some((pattern) => hostMatches(host, pattern))) {
    throw refuse(`host ${host} is not in the git source's allowedHosts (${policy.allowedHosts.join(', ') || 'empty'})`, "add it to allowedHosts in the operator's configuration");
  }
  return { url, protocol, host };
}

/** `example.com` matches only itself; `*.example.com` matches any subdomain of it. */
export function hostMatches(host: string, pattern: string): boolean {
  const p = pattern.toLowerCase();
  return p.startsWith('*.') ? host.endsWith(p.slice(1)) && host.length > p.length - 1 : host === p;
}
