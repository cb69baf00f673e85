// decodeJwt: a token's header and payload, NOT verified, for inspection and debugging. The core
// reads the token strictly (src/token.rs); the objects come from JSON.parse of the texts it
// checked, as the JWKs do.

import { decodeJwt as readToken } from './wasm/jwks_cache.js';
import { inCore } from './errors.js';

/** @returns {{ header: object, payload: object }} */
export function decodeJwt(token) {
  const texts = inCore(() => readToken(token));
  return { header: JSON.parse(texts[0]), payload: JSON.parse(texts[1]) };
}
