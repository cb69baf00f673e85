// What to fix, for each error code: one sentence for a person reading an inspector's verdict or a
// command line's answer (the error's own message says what happened; this says what to do).

const ADVICE = {
  ERR_JWT_MALFORMED: 'The text is not a JWT in compact form (three base64url parts, header and payload JSON objects): copy the whole token, without quotes, spaces or a "Bearer " prefix.',
  ERR_JWT_EXPIRED: 'The token has expired: get a new one from the issuer (or, if clocks disagree by a few seconds, allow a clockToleranceSec).',
  ERR_JWT_NOT_YET_VALID: 'The token is not valid yet ("nbf"): check the clocks of the issuer and of this machine, or wait until it becomes valid.',
  ERR_JWT_CLAIM_INVALID: 'A claim is missing or not what was asked for (iss, aud, typ, exp): compare the payload with the issuer and audience you expect, and the token\'s issuer configuration.',
  ERR_JWS_ALG_NOT_ALLOWED: 'The token\'s "alg" is not a public-key algorithm this verifier accepts ("none" and HS* never are): the issuer must sign with RS*, PS*, ES* or EdDSA.',
  ERR_JWS_HEADER_UNSUPPORTED: 'The header asks for an extension ("crit" or "b64") that this verifier does not implement: the issuer must not send it in tokens.',
  ERR_JWS_SIGNATURE_INVALID: 'The signature does not verify with the selected key: the token was changed, or signed by another key or issuer than this key set\'s.',
  ERR_JWKS_NO_MATCHING_KEY: 'No key of the set can verify this token: check that the token comes from this issuer, that its "kid" is in the set (after a rotation, the set may lag), and that the key allows its "alg".',
  ERR_JWKS_AMBIGUOUS_KID: 'The issuer publishes different keys under this "kid": the issuer must give each key its own kid.',
  ERR_JWKS_URI_MISSING: 'Give a JWKS URI, or an issuer whose OpenID discovery document names one.',
  ERR_JWKS_URI_INVALID: 'Give an absolute https: URL for the key set (http: only for this machine: localhost, 127.x.x.x, [::1]).',
  ERR_KID_MISSING: 'Give the key id (kid) to look up.',
  ERR_KID_INVALID: 'A kid is a non-empty string of at most 1024 bytes.',
  ERR_JWKS_HTTP_STATUS: 'The key set\'s URL did not answer 2xx: check the URL, and whether the issuer is up.',
  ERR_JWKS_REDIRECT: 'The key set\'s URL redirects, and redirects are not followed: use the URL it redirects to.',
  ERR_JWKS_NETWORK: 'The key set could not be fetched (DNS, connection, TLS; in a browser also a missing CORS header): check the URL and that the server is reachable from here.',
  ERR_JWKS_TIMEOUT: 'The key set did not arrive in time: check that the server is up, or allow a longer timeout.',
  ERR_JWKS_RESPONSE_TOO_LARGE: 'The key set\'s response is larger than the bound: check that the URL is the JWKS, or raise maxResponseBytes.',
  ERR_JWKS_INVALID_JSON: 'The key set\'s response is not valid JSON (or repeats a member name): check that the URL is the JWKS, not a page.',
  ERR_JWKS_NESTING_TOO_DEEP: 'The key set\'s response nests too deep to be a JWK Set: check the URL.',
  ERR_JWKS_TOO_MANY_KEYS: 'The key set holds more keys than the bound: check the URL, or raise maxKeys.',
  ERR_JWKS_SET_REFUSED: 'The issuer answered an empty key set over keys that worked: check the issuer\'s deployment.',
  ERR_OIDC_DISCOVERY_INVALID: 'OpenID discovery did not give a usable JWKS URI: check the issuer (it must equal the document\'s "issuer" exactly), or give the JWKS URI directly.',
  ERR_INVALID_OPTION: 'An option is not what it must be: see the message for which one.',
  ERR_CLOCK_INVALID: 'The clock gave a value that is not a time: check the now option.',
  ERR_JWKS_CORE_FAILURE: 'An internal failure (a bug): please report it with the message.',
};

/** What to fix when discovery failed, by its `reason`: the document was not got, or was refused. */
const DISCOVERY_ADVICE = {
  network: 'The issuer\'s OpenID discovery document could not be fetched (DNS, connection, TLS; in a browser also a missing CORS header): check the issuer URL and that it is reachable from here, or give the JWKS URI directly.',
  timeout: 'The issuer\'s OpenID discovery document did not arrive in time: check that the issuer is up, or give the JWKS URI directly.',
  status: 'The issuer did not serve an OpenID discovery document (at <issuer>/.well-known/openid-configuration): check the issuer URL, or give the JWKS URI directly.',
  redirect: 'The issuer\'s OpenID discovery document redirects, and redirects are not followed: use the issuer the redirect points to, or give the JWKS URI directly.',
  'too-large': 'The issuer\'s OpenID discovery document is larger than the bound: check the issuer URL.',
};

/** A sentence that says what to fix for `error` (anything with a `code`), or a general one. */
export function explainError(error) {
  let code, reason;
  try {
    code = error !== null && typeof error === 'object' ? error.code : undefined;
    reason = code === 'ERR_OIDC_DISCOVERY_INVALID' ? error.reason : undefined;
  } catch {
    // A getter that throws: an error of no code.
  }
  if (typeof reason === 'string' && Object.hasOwn(DISCOVERY_ADVICE, reason)) return DISCOVERY_ADVICE[reason];
  return typeof code === 'string' && Object.hasOwn(ADVICE, code) ? ADVICE[code] : 'An unexpected error: see its message.';
}
