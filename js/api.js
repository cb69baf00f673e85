// Everything the package exports, whichever runtime entry loaded the wasm.
import { createJwksCache } from './cache.js';
import { JwksArgumentError } from './errors.js';
import { readOptions } from './verify.js';

export { createJwksCache, JwksCache } from './cache.js';
export { decodeJwt } from './decode-jwt.js';
export { inspectToken } from './inspect-token.js';
export { describeKeySet, matchKey, loadKeySet } from './key-set-report.js';
export { explainError } from './explain-error.js';
export { memoryStore } from './shared-store.js';
export {
  JwksCacheError,
  JwksArgumentError,
  JwksFetchError,
  JwksResponseError,
  JwtError,
} from './errors.js';

/** The cache behind verifyToken, made with the defaults on first use. */
let sharedCache;

/** `cache.verify` on one cache shared by every caller of this function in the process. */
export function verifyToken(token, jwksUri, options = {}) {
  try {
    sharedCache ??= createJwksCache();
    const given = readOptions(options);
    if (given.jwksUri !== undefined && given.jwksUri !== jwksUri) {
      throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: jwksUri differs from the JWKS URI verifyToken was given');
    }
    return sharedCache.verify(token, { ...given, jwksUri });
  } catch (error) {
    return Promise.reject(error);
  }
}
