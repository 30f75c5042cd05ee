/** The `auth` plugin kind: who is asking. */

/** The parts of an HTTP request an auth provider may look at. */
export interface AuthRequest {
  method: string;
  path: string;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
}

/** An authenticated caller. */
export interface Principal {
  /** Stable subject identifier. */
  subject: string;
  /** Which provider authenticated it, e.g. `dex`. */
  provider: string;
  /** Group names from the credential, for GroupBinding expressions. */
  groups: string[];
  /** Other claims (email, name, ...), for GroupBinding expressions. */
  claims: Record<string, unknown>;
}

/** What an auth provider decided about a request. */
export type AuthDecision = { decision: 'allow'; principal: Principal } | { decision: 'deny'; reason: string } | { decision: 'abstain' };

/** The `login.v1` object a provider advertises in service discovery, for `tofu login`. */
export interface LoginV1 {
  client: string;
  grant_types: string[];
  authz: string;
  token: string;
  ports: [number, number];
  scopes?: string[];
}

/**
 * A browser sign-in by OpenID Connect authorization code with PKCE (S256), for the registry's web
 * UI. The registry server runs the flow: it sends the browser to {@link authorizationEndpoint}
 * with its own `<external URL>/ui/callback` as `redirect_uri`, exchanges the code at
 * {@link tokenEndpoint}, and hands the ID token it receives to the same provider's
 * `authenticate` as `Authorization: Bearer <id_token>`: the principal that call returns is the
 * browser session's, so the provider must accept ID tokens issued to {@link clientId}.
 */
export interface BrowserLogin {
  /** The issuer exactly as the ID tokens carry it in `iss`. */
  issuer: string;
  /** The authorization endpoint as users' browsers reach it. */
  authorizationEndpoint: string;
  /** The token endpoint as the registry server reaches it (it may be an in-cluster address). */
  tokenEndpoint: string;
  /** The OAuth client the registry signs browsers in as; its redirect URIs must list `<external URL>/ui/callback`. */
  clientId: string;
  /** For a confidential client: its secret (sent with HTTP Basic authentication). Never logged. */
  clientSecret?: string;
  /** The scopes asked for, `openid` among them. */
  scopes: string[];
}

/**
 * What a request reads: one Module or Provider resource (`name` is the resource's
 * `metadata.name`, not its registry address), in its namespace.
 */
export interface ProtectedResource {
  kind: 'Module' | 'Provider';
  namespace: string;
  name: string;
}

/** An authentication method: anonymous, Kubernetes tokens, OIDC through Dex, ... */
export interface AuthProvider {
  authenticate(request: AuthRequest): Promise<AuthDecision>;
  /**
   * Whether `principal` (which this provider authenticated) may read `resource`. A provider that
   * decides access itself implements it (Kubernetes tokens: a SubjectAccessReview); a provider
   * without it (OIDC) leaves the decision to the GroupBindings of the resource's namespace.
   */
  authorize?(principal: Principal, resource: ProtectedResource): Promise<boolean>;
  /** The `login.v1` discovery entry, if this provider supports `tofu login`. */
  loginV1?(): LoginV1;
  /**
   * The browser sign-in of the web UI, if this provider supports one (see {@link BrowserLogin}).
   * The registry uses the first provider in its chain that offers one. Added after `loginV1`;
   * providers without it keep working, their users just cannot sign in from a browser.
   */
  browserLogin?(): BrowserLogin;
  close?(): Promise<void>;
}
