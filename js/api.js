// Everything the package exports, whichever runtime entry loaded the wasm.
export { createJwksCache, JwksCache } from './cache.js';
export { JwksCacheError, JwksArgumentError, JwksFetchError, JwksResponseError } from './errors.js';
