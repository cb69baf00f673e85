// OpenID discovery for `verify({ issuer })` without a `jwksUri` (and JWT_AUTHORITY): the issuer's
// JWKS URI, from `<issuer>/.well-known/openid-configuration`, fetched with the guards of a JWKS
// fetch (fetch-jwks.js: timeout, size bound, no redirects, no HTTP cache) and read by the core
// (src/discovery.rs: strict JSON, `issuer` exactly the one asked about, a `jwks_uri` the cache
// may fetch). A found URI is used for DISCOVERY_TTL_MS, then looked up again in the background
// while it goes on serving, and kept for as long as that fails (a JWKS URI hardly ever moves, and
// the JWKS fetch has its own rules); a failure with nothing kept is remembered for a short while,
// so that a down issuer is not asked on every call.

import { fetchJwks } from './fetch-jwks.js';
import { asPublicError, describe, isCoreError } from './errors.js';

/** How long a discovered JWKS URI is used before the document is fetched again. */
export const DISCOVERY_TTL_MS = 60 * 60 * 1000;
/** How long a failed discovery, with no URI known, answers with its error before trying again. */
const FAILURE_TTL_MS = 5_000;
/** At most this many issuers are remembered (the oldest forgotten first). */
const MAX_ISSUERS = 100;

export class Discovery {
  /** issuer -> { jwksUri?, error?, until } */
  #known = new Map();
  /** issuer -> the discovery running for it (single flight). */
  #running = new Map();
  #host;

  /** @param {{ core(): object, fetch: Function, now(): number, quirks: object }} host */
  constructor(host) {
    this.#host = host;
  }

  /**
   * The JWKS URI of `issuer` when known (no await): a URI found before is answered at once, past
   * its hour too, while it is looked up again in the background. Undefined when not known.
   */
  known(issuer) {
    const known = this.#known.get(issuer);
    if (known?.jwksUri === undefined) return undefined;
    if (!(this.#host.now() < known.until)) this.#lookUp(issuer, known).catch(() => {});
    return known.jwksUri;
  }

  /** The JWKS URI of `issuer`: a string when known (see known()), else a promise of it. */
  jwksUri(issuer) {
    const uri = this.known(issuer);
    if (uri !== undefined) return uri;
    const known = this.#known.get(issuer);
    if (known?.error !== undefined && this.#host.now() < known.until) return Promise.reject(asPublicError(known.error));
    return this.#lookUp(issuer, known);
  }

  /** The discovery of `issuer`, one at a time. */
  #lookUp(issuer, known) {
    let running = this.#running.get(issuer);
    if (running === undefined) {
      running = this.#discover(issuer, known).finally(() => this.#running.delete(issuer));
      this.#running.set(issuer, running);
    }
    return running;
  }

  async #discover(issuer, known) {
    const core = this.#host.core();
    let error;
    try {
      let uri;
      try {
        uri = core.discoveryUri(issuer);
      } catch (refused) {
        throw isCoreError(refused) ? { ...refused, reason: 'issuer' } : refused;
      }
      const outcome = await fetchJwks(this.#host.fetch, uri, { timeoutMs: core.timeoutMs, maxBytes: core.maxResponseBytes, quirks: this.#host.quirks });
      // `reason` says what failed without the message having to be read: 'issuer' (no issuer
      // discovery may be asked about), 'network', 'timeout', 'too-large', 'redirect', 'status'
      // (with `status`) or 'document'.
      const failed = (reason, why, status) => ({
        code: 'ERR_OIDC_DISCOVERY_INVALID',
        message: `OpenID discovery failed: ${describe(uri)} ${why}`,
        reason,
        uri,
        status,
      });
      if (outcome.failed !== undefined) throw failed(outcome.failed, `answered ${outcome.failed}${outcome.detail ? ` (${outcome.detail})` : ''}`);
      if (outcome.status < 200 || outcome.status > 299) throw failed('status', `answered HTTP status ${outcome.status}`, outcome.status);
      let jwksUri;
      try {
        jwksUri = core.discoveredJwksUri(outcome.body, issuer);
      } catch (refused) {
        throw isCoreError(refused) ? { ...refused, reason: 'document', uri } : refused;
      }
      this.#remember(issuer, { jwksUri, until: this.#host.now() + DISCOVERY_TTL_MS });
      return jwksUri;
    } catch (thrown) {
      error = thrown;
    }
    // A URI found before keeps serving; only an issuer never discovered fails.
    if (known?.jwksUri !== undefined) {
      this.#remember(issuer, { jwksUri: known.jwksUri, until: this.#host.now() + FAILURE_TTL_MS });
      return known.jwksUri;
    }
    this.#remember(issuer, { error, until: this.#host.now() + FAILURE_TTL_MS });
    throw asPublicError(error);
  }

  #remember(issuer, entry) {
    this.#known.delete(issuer);
    this.#known.set(issuer, entry);
    if (this.#known.size > MAX_ISSUERS) this.#known.delete(this.#known.keys().next().value);
  }
}
