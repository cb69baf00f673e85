// Everything the package exports, whichever runtime entry loaded the wasm.
import { createJwksCache } from './cache.js';
import { JwksArgumentError } from './errors.js';

export { createJwksCache, JwksCache } from './cache.js';
export { decodeJwt } from './decode-jwt.js';
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
export async function verifyToken(token, jwksUri, options) {
  sharedCache ??= createJwksCache();
  let given;
  try {
    given = { ...options, jwksUri };
  } catch (cause) {
    throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: the options object could not be read', { cause });
  }
  return sharedCache.verify(token, given);
}
