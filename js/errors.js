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

for (const Class of [JwksCacheError, JwksArgumentError, JwksFetchError, JwksResponseError]) {
  Object.defineProperty(Class.prototype, 'name', { value: Class.name, configurable: true, writable: true });
}

const CLASS_OF_CODE = {
  ERR_JWKS_URI_MISSING: JwksArgumentError,
  ERR_JWKS_URI_INVALID: JwksArgumentError,
  ERR_KID_MISSING: JwksArgumentError,
  ERR_KID_INVALID: JwksArgumentError,
  ERR_INVALID_OPTION: JwksArgumentError,
  ERR_JWKS_HTTP_STATUS: JwksFetchError,
  ERR_JWKS_NETWORK: JwksFetchError,
  ERR_JWKS_TIMEOUT: JwksFetchError,
  ERR_JWKS_INVALID_JSON: JwksResponseError,
  ERR_JWKS_AMBIGUOUS_KID: JwksResponseError,
};

/**
 * Turns the `{ code, message, status? }` the wasm core throws into its public class. Anything
 * else (a JS error raised on the way) passes through unchanged.
 */
export function toPublicError(raw) {
  if (raw instanceof Error || raw === null || typeof raw !== 'object' || typeof raw.code !== 'string') return raw;
  const Class = CLASS_OF_CODE[raw.code] ?? JwksCacheError;
  return Class === JwksFetchError ? new JwksFetchError(raw.code, raw.message, raw.status) : new Class(raw.code, raw.message);
}
