// Type-checked by tests/node/package.test.js against the installed tarball's declarations.
// Each @ts-expect-error line must be an error: the test fails if the types get looser.
import {
  createJwksCache,
  JwksCache,
  JwksCacheError,
  JwksFetchError,
  JwtError,
  decodeJwt,
  type Jwk,
  type JwksCacheOptions,
  type JwksErrorCode,
} from 'jwks-cache';

const options: JwksCacheOptions = { ttlMs: 10 * 60 * 1000, timeoutMs: 2000, maxResponseBytes: 64 * 1024, maxKeys: 20, now: () => Date.now() };
// @ts-expect-error the bounds are numbers
createJwksCache({ maxKeys: '20' });
const cache: JwksCache = createJwksCache(options);
createJwksCache();
new JwksCache({ ttlMs: 1000 });

export async function lookUp(uri: string, kid: string): Promise<string | undefined> {
  const jwk: Jwk | null = await cache.getKey(uri, kid);
  if (jwk === null) return undefined;
  // @ts-expect-error the JWK is read-only
  jwk.kty = 'oct';
  return jwk.alg ?? jwk.kty;
}

export function describe(error: unknown): string {
  if (error instanceof JwksFetchError) return `${error.code} ${error.status ?? ''}`;
  if (error instanceof JwksCacheError) {
    const code: JwksErrorCode = error.code;
    return code;
  }
  return String(error);
}

cache.clear();
// @ts-expect-error the kid is a string
cache.getKey('https://issuer.example/jwks', 42);
// @ts-expect-error ttlMs is a number
createJwksCache({ ttlMs: '600000' });
// @ts-expect-error no such option
createJwksCache({ ttl: 1 });

export function inspect(token: string): unknown {
  const { header, payload } = decodeJwt(token);
  // @ts-expect-error decoded tokens are read-only
  payload.sub = 'admin';
  return [header.alg, payload.sub];
}

export function malformed(error: unknown): boolean {
  return error instanceof JwtError && error.code === 'ERR_JWT_MALFORMED';
}
