// Everything the package exports, whichever runtime entry loaded the wasm.
export { createJwksCache, JwksCache } from './cache.js';
export { decodeJwt } from './decode-jwt.js';
export { JwksCacheError, JwksArgumentError, JwksFetchError, JwksResponseError, JwtError } from './errors.js';
