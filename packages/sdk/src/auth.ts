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
  close?(): Promise<void>;
}
