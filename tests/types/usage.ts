// Type-checked by tests/node/package.test.js against the installed tarball's declarations.
// Each @ts-expect-error line must be an error: the test fails if the types get looser.
import {
  createJwksCache,
  memoryStore,
  JwksCache,
  JwksCacheError,
  JwksFetchError,
  JwtError,
  JwksResponseError,
  decodeJwt,
  verifyToken,
  inspectToken,
  describeKeySet,
  matchKey,
  loadKeySet,
  explainError,
  type Jwk,
  type VerifyOptions,
  type VerifyResult,
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

export async function authenticate(token: string, jwksUri: string): Promise<string | undefined> {
  const options: VerifyOptions = { jwksUri, issuer: 'https://issuer.example', audience: ['api', 'web'], algorithms: ['ES256', 'EdDSA'], clockToleranceSec: 30 };
  const { payload, protectedHeader, key }: VerifyResult = await cache.verify(token, options);
  payload.scope = 'changed'; // the payload is the caller's own
  const kid: string = key.kid;
  const alg: string = protectedHeader.alg;
  const shared = await verifyToken(token, jwksUri, { audience: 'api', currentDate: new Date() });
  const bytes: Uint8Array = (await cache.verifyJws(token, { jwksUri })).payload;
  return [payload.sub, kid, alg, shared.payload.iss, bytes.length].join();
}
// @ts-expect-error jwksUri is a string
cache.verify('t', { jwksUri: 42, audience: 'api' });
// Without jwksUri: the issuer's OpenID discovery finds it.
cache.verify('t', { issuer: 'https://issuer.example', audience: 'api' });
const shared = createJwksCache({ store: memoryStore(), storeTimeoutMs: 100, onEvent: (event) => event.action, logger: console, verifyOptions: { audience: 'api' } });
const invalidated: Promise<boolean> = shared.invalidate('https://issuer.example/jwks', { reason: 'rotation' });
const exposition: string = shared.metrics();
// @ts-expect-error a store has get, set and delete
createJwksCache({ store: { get: async () => null } });
// @ts-expect-error HS256 is never an algorithm of verify
cache.verify('t', { jwksUri: 'https://issuer.example/jwks', algorithms: ['HS256'] });
// @ts-expect-error currentDate is a Date
cache.verify('t', { jwksUri: 'https://issuer.example/jwks', currentDate: 1700000000 });

export function rejected(error: unknown): boolean {
  return error instanceof JwtError && (error.code === 'ERR_JWS_SIGNATURE_INVALID' || error.code === 'ERR_JWT_EXPIRED');
}

export async function inspectAndLoad(token: string, uri: string): Promise<string> {
  const { header, times, findings } = inspectToken(token, { now: Date.now() });
  const refused: boolean[] = findings.map((finding) => finding.refused);
  // @ts-expect-error now is a number of milliseconds
  inspectToken(token, { now: new Date() });
  const { cache: holding, keySet } = await loadKeySet({ jwksUri: uri }, { timeoutMs: 2000 });
  // @ts-expect-error a JWKS URI or an issuer, not both
  await loadKeySet({ jwksUri: uri, issuer: uri });
  try {
    await loadKeySet({ issuer: uri });
  } catch (error) {
    if (error instanceof JwksResponseError && error.reason === 'network') return `${error.uri}`;
    // @ts-expect-error reason is one of the documented few
    if (error instanceof JwksResponseError && error.reason === 'dns') return '';
  }
  const entry = matchKey(keySet, header) ?? describeKeySet('{"keys":[]}').entries[0];
  const jwksUri: string = await holding.discover('https://issuer.example');
  holding.close();
  return `${times[0]?.text} ${refused.length} ${entry?.algorithms.join()} ${jwksUri} ${explainError(new Error('x'))}`;
}
