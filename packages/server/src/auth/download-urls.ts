/**
 * Signed download URLs. Terraform and OpenTofu do not send the registry token when they fetch a
 * module's `X-Terraform-Get` location or a provider's `download_url`, `shasums_url` and
 * `shasums_signature_url`, so when access is controlled those URLs carry their own short-lived
 * authorization: `od_exp` (expiry, Unix seconds) and `od_sig`, an HMAC-SHA256 over the artifact's
 * identity and the expiry. A signature is valid for that one artifact only.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The query parameters of a signed URL. */
export const EXPIRY_PARAM = 'od_exp';
export const SIGNATURE_PARAM = 'od_sig';

/** What {@link DownloadUrlSigner.verify} found. */
export type SignatureCheck = 'valid' | 'missing' | 'expired' | 'invalid';

/** The shortest HMAC key accepted. */
export const MIN_SECRET_BYTES = 32;

/**
 * The identity a signature is bound to: the artifact's kind and canonical address, lower-case,
 * e.g. `module:ns/name/system/1.2.5/archive.zip` or `provider:ns/type/1.0.0/SHA256SUMS`.
 */
export function artifactId(kind: 'module' | 'provider', parts: readonly string[]): string {
  return `${kind}:${parts.join('/')}`.toLowerCase();
}

export class DownloadUrlSigner {
  readonly #secret: Buffer;
  readonly ttlSeconds: number;
  readonly #now: () => number;

  constructor(options: { secret?: Buffer; ttlSeconds: number; now?: () => number }) {
    const secret = options.secret ?? randomBytes(MIN_SECRET_BYTES);
    if (secret.length < MIN_SECRET_BYTES) throw new Error(`the download URL secret must be at least ${MIN_SECRET_BYTES} bytes, it has ${secret.length}`);
    this.#secret = secret;
    this.ttlSeconds = options.ttlSeconds;
    this.#now = options.now ?? Date.now;
  }

  /** `od_exp=...&od_sig=...` for `artifact`, valid for {@link ttlSeconds} from now. */
  query(artifact: string): string {
    const expires = Math.floor(this.#now() / 1000) + this.ttlSeconds;
    return `${EXPIRY_PARAM}=${expires}&${SIGNATURE_PARAM}=${this.#mac(artifact, String(expires))}`;
  }

  /** Appends the signature to `url` (which may already have a query). */
  sign(url: string, artifact: string): string {
    return `${url}${url.includes('?') ? '&' : '?'}${this.query(artifact)}`;
  }

  /** Checks the signature a request carries for `artifact`. */
  verify(artifact: string, query: Readonly<Record<string, string | string[] | undefined>>): SignatureCheck {
    const expires = query[EXPIRY_PARAM];
    const signature = query[SIGNATURE_PARAM];
    if (expires === undefined && signature === undefined) return 'missing';
    if (typeof expires !== 'string' || typeof signature !== 'string' || !/^\d{1,12}$/.test(expires)) return 'invalid';
    const expected = Buffer.from(this.#mac(artifact, expires));
    const given = Buffer.from(signature);
    // Constant time: the comparison does not tell how much of a forged signature was right.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    if (Number(expires) * 1000 <= this.#now()) return 'expired';
    return 'valid';
  }

  #mac(artifact: string, expires: string): string {
    return createHmac('sha256', this.#secret).update(`opendepot-download\n${artifact}\n${expires}`).digest('base64url');
  }
}
