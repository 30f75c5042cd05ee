/**
 * What the plugin tests share: a plugin context with a recording logger and a settable clock,
 * requests with a bearer token, JWT surgery for the attack set, and a small OIDC issuer whose
 * keys the test holds (for claims Dex never issues, such as `nbf`).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthRequest, Logger, PluginContext } from '@opendepot/sdk';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

/** One log line as the recording logger keeps it. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps every line. */
export function recordingLogger(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const logger = {
    lines,
    debug: (message: string, fields?: Record<string, unknown>) => void lines.push({ level: 'debug', message, fields: fields ?? {} }),
    info: (message: string, fields?: Record<string, unknown>) => void lines.push({ level: 'info', message, fields: fields ?? {} }),
    warn: (message: string, fields?: Record<string, unknown>) => void lines.push({ level: 'warn', message, fields: fields ?? {} }),
    error: (message: string, fields?: Record<string, unknown>) => void lines.push({ level: 'error', message, fields: fields ?? {} }),
    child: () => logger,
  };
  return logger;
}

/** A plugin context whose clock is `Date.now() + offsetMs` (settable). */
export function pluginContext(options: { logger?: Logger; offsetMs?: number } = {}): PluginContext & { setOffset(ms: number): void; logger: Logger & { lines: LogLine[] } } {
  let offset = options.offsetMs ?? 0;
  const logger = (options.logger ?? recordingLogger()) as Logger & { lines: LogLine[] };
  return {
    logger,
    signal: new AbortController().signal,
    clock: { now: () => Date.now() + offset },
    configPath: 'auth.providers[1].config',
    setOffset(ms) {
      offset = ms;
    },
  };
}

/** A registry request with `Authorization: Bearer <token>` (or the raw header given). */
export function request(token?: string, header?: string): AuthRequest {
  const authorization = header ?? (token === undefined ? undefined : `Bearer ${token}`);
  return { method: 'GET', path: '/v1/modules/team-a/vpc/aws/versions', headers: authorization === undefined ? {} : { authorization } };
}

/** The three parts of a compact JWS, the first two decoded. */
export function partsOf(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string; raw: string[] } {
  const raw = token.split('.');
  return {
    header: JSON.parse(Buffer.from(raw[0]!, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(raw[1]!, 'base64url').toString()),
    signature: raw[2]!,
    raw,
  };
}

/** Base64url of the JSON of `value`. */
export function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Counts lines of `logger` whose message is `message`. */
export function count(logger: { lines: LogLine[] }, message: string): number {
  return logger.lines.filter((l) => l.message === message).length;
}

/** An OIDC issuer on loopback whose signing key the test holds: discovery and a key set, nothing else. */
export interface KeyIssuer {
  issuer: string;
  kid: string;
  /** Signs `claims` (iss, iat, exp default to sensible values) with the issuer's key. */
  sign(claims: JWTPayload, header?: { kid?: string }): Promise<string>;
  stop(): Promise<void>;
}

/** Starts a {@link KeyIssuer}. */
export async function startKeyIssuer(): Promise<KeyIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = `test-${Math.random().toString(36).slice(2)}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  let issuer = '';
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    res.setHeader('content-type', 'application/json');
    if (path === '/issuer/.well-known/openid-configuration') {
      res.end(JSON.stringify({ issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/keys`, id_token_signing_alg_values_supported: ['RS256'] }));
    } else if (path === '/issuer/keys') {
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/issuer`;
  return {
    issuer,
    kid,
    async sign(claims, header = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, sub: 'subject-1', aud: 'opendepot-cli', iat: now, exp: now + 3600, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: header.kid ?? kid, typ: 'JWT' })
        .sign(privateKey);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A loopback HTTP proxy to `target` that records the paths it forwarded. */
export async function startCountingProxy(target: string): Promise<{ url: string; paths: string[]; stop(): Promise<void> }> {
  const paths: string[] = [];
  const server = createServer(async (req, res) => {
    paths.push(req.url ?? '');
    try {
      const upstream = await fetch(new URL(req.url ?? '/', target), { method: req.method, redirect: 'manual' });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    } catch {
      res.writeHead(502);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    paths,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
