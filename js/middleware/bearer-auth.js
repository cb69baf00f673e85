// What the Express, Fastify and Hono middleware share: the options, the token from the request,
// the verification, and the answer to a request that fails it (RFC 6750). Each framework module
// only adapts requests and responses.
//
// - No token (credentialsRequired, the default): 401, `WWW-Authenticate: Bearer`.
// - A malformed Authorization header: 401, `error="invalid_request"`.
// - A token that does not verify (JwtError): 401, `error="invalid_token"` and an
//   `error_description` chosen by the error's code (never the token, never the message).
// - The JWKS endpoint down or answering garbage (JwksFetchError, JwksResponseError, a core
//   failure): 503 with `Retry-After`, never 401 (the token may be fine) and never 500.
// - A wrong configuration (JwksArgumentError: an invalid option): 500.
// The body is JSON `{ error, code, message }`, the message one of the fixed sentences below.

import { createJwksCache, JwksArgumentError, JwtError } from 'jwks-cache';
import { readOptions } from '../verify.js';

/** What the middleware reads for itself; everything else is an option of `verify`. */
const OWN_OPTIONS = ['credentialsRequired', 'getToken', 'cache'];
/** A Bearer token (RFC 6750 2.1: b64token). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
/** Seconds a client should wait before trying again while the JWKS endpoint is down. */
const RETRY_AFTER_SECONDS = 5;

/** The sentence a failure with this code answers with (nothing from the token or the error). */
const DESCRIPTIONS = {
  ERR_JWT_MALFORMED: 'The token is malformed',
  ERR_JWT_EXPIRED: 'The token has expired',
  ERR_JWT_NOT_YET_VALID: 'The token is not valid yet',
  ERR_JWT_CLAIM_INVALID: 'A claim of the token is not accepted (issuer, audience, type or a required claim)',
  ERR_JWS_ALG_NOT_ALLOWED: 'The token is signed with an algorithm that is not accepted',
  ERR_JWS_HEADER_UNSUPPORTED: 'The token header asks for something not supported',
  ERR_JWKS_NO_MATCHING_KEY: 'No key of the issuer can verify the token',
  ERR_JWS_SIGNATURE_INVALID: 'The token signature is invalid',
  ERR_JWKS_AMBIGUOUS_KID: 'The token names a key id that the issuer uses for several keys',
};

/** One shared cache for every middleware that is given none. */
let sharedCache;

/** The middleware's options, read once: `{ verifyOptions, credentialsRequired, getToken, cache }`. */
export function readAuthOptions(options = {}) {
  if (options === null || typeof options !== 'object') {
    throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: jwtAuth takes an options object');
  }
  const verifyOptions = {};
  for (const [name, value] of Object.entries(options)) if (!OWN_OPTIONS.includes(name)) verifyOptions[name] = value;
  const { credentialsRequired = true, getToken, cache } = options;
  if (typeof credentialsRequired !== 'boolean') throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: credentialsRequired must be a boolean');
  if (getToken !== undefined && typeof getToken !== 'function') throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: getToken must be a function');
  if (cache !== undefined && typeof cache?.verify !== 'function') throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: cache must be a jwks-cache cache');
  // Names and types now, as verify reads them (a misspelt option fails here, not on each request).
  readOptions(verifyOptions);
  return { verifyOptions, credentialsRequired, getToken, cache };
}

/**
 * Authenticates one request: `{ auth: { payload, protectedHeader } }`, `{ anonymous: true }` (no
 * token, and none required), or `{ failure: { status, headers, body } }`.
 * @param settings what readAuthOptions gave
 * @param request the framework's request (handed to getToken)
 * @param authorization the request's Authorization header, if any
 * @param waitUntil the request's ctx.waitUntil, on Workers
 */
export async function authenticate(settings, request, authorization, waitUntil) {
  let token;
  if (settings.getToken !== undefined) {
    try {
      token = await settings.getToken(request);
    } catch {
      return { failure: refused('invalid_request', 'ERR_JWT_MALFORMED', 'The token could not be read from the request') };
    }
    if (token !== undefined && token !== null && typeof token !== 'string') {
      return { failure: refused('invalid_request', 'ERR_JWT_MALFORMED', 'The token could not be read from the request') };
    }
  } else if (typeof authorization === 'string' && authorization !== '') {
    const match = BEARER.exec(authorization);
    if (match === null) {
      // Another scheme is not ours to judge: as if no token came; a broken Bearer one is malformed.
      if (/^Bearer\b/i.test(authorization)) return { failure: refused('invalid_request', 'ERR_JWT_MALFORMED', 'The Authorization header does not hold one Bearer token') };
    } else {
      token = match[1];
    }
  }
  if (token === undefined || token === null || token === '') {
    if (!settings.credentialsRequired) return { anonymous: true };
    return { failure: { status: 401, headers: { 'www-authenticate': 'Bearer' }, body: { error: 'unauthorized', code: 'ERR_JWT_MISSING', message: 'A Bearer token is required' } } };
  }
  // A server under concurrent load: signatures are checked beside the event loop (Node's thread
  // pool; crypto.subtle elsewhere is asynchronous anyway), which serves more requests per second.
  const cache = settings.cache ?? (sharedCache ??= createJwksCache({ offloadSignatures: true }));
  const options = waitUntil === undefined ? settings.verifyOptions : { ...settings.verifyOptions, waitUntil };
  try {
    const { payload, protectedHeader } = await cache.verify(token, options);
    return { auth: { payload, protectedHeader } };
  } catch (error) {
    return { failure: failureOf(error) };
  }
}

function failureOf(error) {
  const code = typeof error?.code === 'string' ? error.code : 'ERR_UNKNOWN';
  if (error instanceof JwtError) return refused('invalid_token', code, DESCRIPTIONS[code] ?? 'The token is invalid');
  if (error instanceof JwksArgumentError) {
    // The configuration (an option of verify) is wrong, not the request.
    return { status: 500, headers: {}, body: { error: 'server_error', code, message: 'The authentication is not configured correctly' } };
  }
  return {
    status: 503,
    headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
    body: { error: 'temporarily_unavailable', code, message: 'The keys to verify the token cannot be fetched now' },
  };
}

function refused(error, code, description) {
  return {
    status: 401,
    headers: { 'www-authenticate': `Bearer error="${error}", error_description="${description}"` },
    body: { error, code, message: description },
  };
}
