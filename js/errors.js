// The public error classes. The Rust core decides every error and its stable `code`; this module
// only gives each code its class, so that callers can use `instanceof` as well as `code`.

export class JwksCacheError extends Error {
  /** @param {string} code @param {string} message @param {ErrorOptions} [options] */
  constructor(code, message, options) {
    super(message, options);
    this.code = code;
  }
}

/** A call or option was wrong: fix the caller, retrying will not help. */
export class JwksArgumentError extends JwksCacheError {}

/** The JWKS endpoint could not be read: an HTTP status outside 2xx, a network error, a timeout. */
export class JwksFetchError extends JwksCacheError {
  /** @param {string} code @param {string} message @param {number} [status] */
  constructor(code, message, status) {
    super(code, message);
    /** The HTTP status, when the endpoint answered. */
    this.status = status;
  }
}

/** The JWKS endpoint answered with something that cannot be used as asked. */
export class JwksResponseError extends JwksCacheError {}

/** A token is not accepted: malformed, refused algorithm or header, no key for it, bad signature, claims. */
export class JwtError extends JwksCacheError {}

for (const Class of [JwksCacheError, JwksArgumentError, JwksFetchError, JwksResponseError, JwtError]) {
  Object.defineProperty(Class.prototype, 'name', { value: Class.name, configurable: true, writable: true });
}

const CLASS_OF_CODE = {
  ERR_JWKS_URI_MISSING: JwksArgumentError,
  ERR_JWKS_URI_INVALID: JwksArgumentError,
  ERR_KID_MISSING: JwksArgumentError,
  ERR_KID_INVALID: JwksArgumentError,
  ERR_INVALID_OPTION: JwksArgumentError,
  ERR_CLOCK_INVALID: JwksArgumentError,
  ERR_JWKS_HTTP_STATUS: JwksFetchError,
  ERR_JWKS_REDIRECT: JwksFetchError,
  ERR_JWKS_NETWORK: JwksFetchError,
  ERR_JWKS_TIMEOUT: JwksFetchError,
  ERR_JWKS_RESPONSE_TOO_LARGE: JwksResponseError,
  ERR_JWKS_INVALID_JSON: JwksResponseError,
  ERR_JWKS_SET_REFUSED: JwksResponseError,
  ERR_OIDC_DISCOVERY_INVALID: JwksResponseError,
  ERR_JWKS_NESTING_TOO_DEEP: JwksResponseError,
  ERR_JWKS_TOO_MANY_KEYS: JwksResponseError,
  ERR_JWKS_AMBIGUOUS_KID: JwksResponseError,
  ERR_JWT_MALFORMED: JwtError,
  ERR_JWS_ALG_NOT_ALLOWED: JwtError,
  ERR_JWS_HEADER_UNSUPPORTED: JwtError,
  ERR_JWKS_NO_MATCHING_KEY: JwtError,
  ERR_JWS_SIGNATURE_INVALID: JwtError,
  ERR_JWT_EXPIRED: JwtError,
  ERR_JWT_NOT_YET_VALID: JwtError,
  ERR_JWT_CLAIM_INVALID: JwtError,
};

/** Whether `thrown` is an error the wasm core decided (`{ code, message, status? }`). */
export function isCoreError(thrown) {
  return thrown !== null && typeof thrown === 'object' && !(thrown instanceof Error) && typeof thrown.code === 'string';
}

/**
 * A new public error for the `{ code, message, status?, cause? }` that the core (or this layer)
 * decided. A result shared by many callers keeps the plain object and gives each caller an error
 * of its own, so that no caller sees another's changes to it.
 */
export function toPublicError(raw) {
  const Class = CLASS_OF_CODE[raw.code] ?? JwksCacheError;
  if (Class === JwksFetchError) return new JwksFetchError(raw.code, raw.message, raw.status);
  const error = new Class(raw.code, raw.message, raw.cause === undefined ? undefined : { cause: raw.cause });
  // What a discovery failure adds (discovery.js): why, which URL, and the status it answered.
  if (raw.reason !== undefined) Object.assign(error, { reason: raw.reason, uri: raw.uri, ...(raw.status === undefined ? {} : { status: raw.status }) });
  return error;
}

/** What to throw for something a synchronous core call threw: its public error, or the thing itself. */
export function asPublicError(thrown) {
  return isCoreError(thrown) ? toPublicError(thrown) : thrown;
}

/**
 * Runs a stateless call into the core (reading a token, checking claims, wording an error): an
 * error it decided is thrown as its public error; anything else is the core failing (a trap:
 * wasm memory exhausted, a bug), thrown as ERR_JWKS_CORE_FAILURE. Such calls hold no state of a
 * cache's core, so none needs a restart.
 */
export function inCore(call) {
  try {
    return call();
  } catch (thrown) {
    throw toPublicError(isCoreError(thrown) ? thrown : coreFailure(thrown, false));
  }
}

/** The error for every call in progress when the wasm core failed (it trapped, a bug). */
export function coreFailure(cause, restarted = true) {
  const what = restarted ? 'JWKS cache core failed and was restarted empty' : 'JWKS cache core failed';
  return { code: 'ERR_JWKS_CORE_FAILURE', message: `${what}: ${describe(cause)}`, cause };
}

/** The error for a clock (the `now` option) that threw instead of answering. */
export function clockFailure(cause) {
  return { code: 'ERR_CLOCK_INVALID', message: `Clock invalid: now() threw: ${describe(cause)}`, cause };
}

/** Words for an error from outside, bounded: they end up in messages and logs. */
export function describe(error, maxChars = 200) {
  let text;
  try {
    text = String(error?.message ?? error);
  } catch {
    text = 'unprintable error';
  }
  return text.length > maxChars ? `${text.slice(0, maxChars)}...` : text;
}
