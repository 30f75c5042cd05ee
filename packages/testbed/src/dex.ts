/**
 * Real Dex (built from the Go module proxy) on a loopback port: memory storage, the static
 * password database as its only connector (users carry their groups: Dex's `staticPasswords`
 * entries have a `groups` field, which the password connector returns as the identity's groups
 * and Dex puts in the `groups` claim when the `groups` scope is asked for), and static clients.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './ports.ts';
import { startProcess, waitFor, type ManagedProcess } from './processes.ts';
import { ensureTool } from './tools.ts';

/** The password of {@link DEX_PASSWORD_HASH}. */
export const DEX_DEMO_PASSWORD = 'password';
/** bcrypt (cost 10) of `password`, from Dex's own development config. */
export const DEX_PASSWORD_HASH = '$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W';

/** A user of the static password database. */
export interface DexUser {
  /** What the user types as login. */
  email: string;
  username?: string;
  /** bcrypt hash of the password; default {@link DEX_PASSWORD_HASH} (password `password`). */
  hash?: string;
  groups?: string[];
  /** Stable user id (Dex derives `sub` from it and the connector id); default derived from the email. */
  userID?: string;
}

/** A static OAuth client. */
export interface DexClient {
  id: string;
  name?: string;
  /** A public client (no secret; PKCE), as `tofu login` uses. */
  public?: boolean;
  secret?: string;
  /**
   * Exact redirect URIs. A public client without any accepts every `http://localhost:<port>/…`
   * URI, which is what `tofu login`'s random port in a range needs.
   */
  redirectURIs?: string[];
}

/** Options of {@link startDex}. */
export interface DexOptions {
  users?: DexUser[];
  clients?: DexClient[];
  /** Port to listen on; default a free one. */
  port?: number;
  /**
   * The issuer Dex names in its tokens and discovery; default `http://127.0.0.1:<port>/dex`.
   * Set it to another instance's issuer to make an impostor with its own keys.
   */
  issuer?: string;
  /** Lifetime of ID and access tokens, a Go duration; default `24h`. */
  idTokens?: string;
  /** Show the approval screen after login (default false: skipped). */
  approvalScreen?: boolean;
  /** Also allow `grant_type=password` through the password database. */
  passwordGrant?: boolean;
}

/** A running Dex. */
export interface Dex {
  /** The issuer URL, as in `iss` and discovery. */
  issuer: string;
  /** Where it listens, `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** Its directory (config and log). */
  dir: string;
  logFile: string;
  users: DexUser[];
  clients: DexClient[];
  /**
   * Its authorization and token endpoints at the address it listens on (the same as discovery
   * names, unless `issuer` names another host: an impostor).
   */
  endpoints: { authz: string; token: string };
  /** Its discovery document. */
  discovery(): Promise<DexDiscovery>;
  /**
   * Stops it and starts a fresh one with the same config on the same port: memory storage, so
   * it signs with new keys (a key rotation as clients see it) and forgets every grant.
   */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The parts of Dex's discovery document tests use. */
export interface DexDiscovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  [key: string]: unknown;
}

/** The default user: `alice@example.com` / `password`, in groups `aws-platform-team` and `developers`. */
export const DEX_DEFAULT_USER: DexUser = { email: 'alice@example.com', username: 'alice', groups: ['aws-platform-team', 'developers'] };
/** The default client: `opendepot-cli`, public, any localhost redirect. */
export const DEX_DEFAULT_CLIENT: DexClient = { id: 'opendepot-cli', name: 'OpenDepot CLI', public: true };

function configOf(options: DexOptions, port: number, issuer: string, users: DexUser[], clients: DexClient[]): string {
  return stringify({
    issuer,
    storage: { type: 'memory' },
    web: { http: `127.0.0.1:${port}` },
    logger: { level: 'info' },
    expiry: { idTokens: options.idTokens ?? '24h' },
    oauth2: {
      skipApprovalScreen: !options.approvalScreen,
      ...(options.passwordGrant ? { passwordConnector: 'local' } : {}),
    },
    enablePasswordDB: true,
    staticPasswords: users.map((u) => ({
      email: u.email,
      hash: u.hash ?? DEX_PASSWORD_HASH,
      username: u.username ?? u.email.split('@')[0],
      userID: u.userID ?? `user-${u.email}`,
      groups: u.groups ?? [],
    })),
    staticClients: clients.map((c) => ({
      id: c.id,
      name: c.name ?? c.id,
      ...(c.public ? { public: true } : { secret: c.secret ?? `${c.id}-secret` }),
      ...(c.redirectURIs ? { redirectURIs: c.redirectURIs } : {}),
    })),
  });
}

async function launch(bin: string, dir: string, port: number, issuer: string): Promise<ManagedProcess> {
  const logFile = join(dir, 'dex.log');
  // The bcrypt hashes hold `$`: no environment expansion in the config.
  const child = startProcess(bin, ['serve', join(dir, 'dex.yaml')], { logFile, env: { ...process.env, DEX_EXPAND_ENV: 'false' } });
  let exited = false;
  void child.exited.then(() => (exited = true));
  try {
    await waitFor(
      `Dex on 127.0.0.1:${port}`,
      async () => {
        if (exited) throw new Error(`it exited; see ${logFile}`);
        const response = await fetch(`http://127.0.0.1:${port}${new URL(issuer).pathname.replace(/\/$/, '')}/.well-known/openid-configuration`);
        await response.body?.cancel();
        return response.ok;
      },
      30_000,
      100,
    );
  } catch (err) {
    await child.stop();
    throw err;
  }
  return child;
}

/** Starts Dex (built from the Go module proxy on first use). Call `stop()` when done. */
export async function startDex(options: DexOptions = {}): Promise<Dex> {
  const bin = await ensureTool('dex');
  const dir = await mkdtemp(join(tmpdir(), 'opendepot-dex-'));
  const users = options.users ?? [DEX_DEFAULT_USER];
  const clients = options.clients ?? [DEX_DEFAULT_CLIENT];
  let child: ManagedProcess | undefined;
  let port = options.port ?? 0;
  let issuer = '';
  let lastError: unknown;
  // A free port may be taken between choosing and binding it: try a few (unless one was given).
  for (let attempt = 0; attempt < (options.port === undefined ? 3 : 1) && child === undefined; attempt++) {
    port = options.port ?? (await freePort());
    issuer = options.issuer ?? `http://127.0.0.1:${port}/dex`;
    await writeFile(join(dir, 'dex.yaml'), configOf(options, port, issuer, users, clients));
    try {
      child = await launch(bin, dir, port, issuer);
    } catch (err) {
      lastError = err;
    }
  }
  if (child === undefined) {
    await rm(dir, { recursive: true, force: true });
    throw lastError;
  }
  const url = `http://127.0.0.1:${port}`;
  const basePath = new URL(issuer).pathname.replace(/\/$/, '');
  let running: ManagedProcess = child;
  return {
    issuer,
    url,
    port,
    dir,
    logFile: join(dir, 'dex.log'),
    users,
    clients,
    endpoints: { authz: `${url}${basePath}/auth`, token: `${url}${basePath}/token` },
    async discovery() {
      const response = await fetch(`${url}${basePath}/.well-known/openid-configuration`);
      if (!response.ok) throw new Error(`Dex discovery answered ${response.status}`);
      return (await response.json()) as DexDiscovery;
    },
    async restart() {
      await running.stop();
      running = await launch(bin, dir, port, issuer);
    },
    async stop() {
      await running.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
