// cache.verify and verifyToken as a user meets them, and the verified-token cache: what a repeated
// token skips (the signature check, counted at the backend), and when it stops being trusted
// (another set, its exp, another allow-list or audience, clear, the bound).

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createJwksCache, verifyToken, JwtError, JwksArgumentError, JwksFetchError } from 'jwks-cache';
import { installSignatures } from '../../node_modules/jwks-cache/signatures.js';
import { nodeSignatures } from '../../node_modules/jwks-cache/signatures-node.js';
import { startJwksServer } from '../support/jwks-server.js';
import { makeSigner, nowSec } from '../support/signer.js';

let issuer;
const es256 = makeSigner('ES256', { kid: 'es' });
const eddsa = makeSigner('EdDSA', { kid: 'ed' });
/** Signature checks the package asked node:crypto for. */
let checks = 0;

before(async () => {
  issuer = await startJwksServer();
  installSignatures({
    ...nodeSignatures,
    verify: (key, alg, text, signature) => {
      checks += 1;
      return nodeSignatures.verify(key, alg, text, signature);
    },
  });
});
after(async () => {
  installSignatures(nodeSignatures);
  await issuer.close();
});
beforeEach(() => {
  issuer.setKeys([es256.jwk, eddsa.jwk]);
  issuer.behave('ok');
  issuer.resetCounts();
  checks = 0;
});

const claims = (extra = {}) => ({ sub: 'alice', iss: 'https://issuer.example', aud: 'api', exp: nowSec() + 600, ...extra });
const code = (promise) => promise.then(() => 'verified', (error) => error.code);

test('verify answers the claims, the header and the key; verifyToken the same on a shared cache', async () => {
  const cache = createJwksCache();
  const token = es256.sign(claims(), { header: { typ: 'JWT' } });
  const { payload, protectedHeader, key } = await cache.verify(token, { jwksUri: issuer.jwksUri, issuer: 'https://issuer.example', audience: ['web', 'api'] });
  assert.equal(payload.sub, 'alice');
  assert.deepEqual(protectedHeader, { alg: 'ES256', kid: 'es', typ: 'JWT' });
  assert.deepEqual(key, es256.jwk);
  assert.ok(Object.isFrozen(key));
  assert.equal((await verifyToken(token, issuer.jwksUri, { audience: 'api' })).payload.sub, 'alice');
  assert.equal(issuer.jwksRequests, 2, 'one fetch for the cache, one for the shared cache');
  const { verify } = cache;
  assert.equal((await verify(token, { jwksUri: issuer.jwksUri })).payload.sub, 'alice', 'usable detached');
});

test('verify never throws synchronously, whatever it is given', async () => {
  const cache = createJwksCache();
  const fail = () => {
    throw new Error('no');
  };
  const hostile = new Proxy({}, { get: fail, ownKeys: fail, getOwnPropertyDescriptor: fail });
  for (const [token, options, expected] of [
    [undefined, { jwksUri: issuer.jwksUri }, 'ERR_JWT_MALFORMED'],
    [42, { jwksUri: issuer.jwksUri }, 'ERR_JWT_MALFORMED'],
    [es256.sign(claims()), undefined, 'ERR_INVALID_OPTION'],
    [es256.sign(claims()), hostile, 'ERR_INVALID_OPTION'],
    [es256.sign(claims()), { jwksUri: issuer.jwksUri, currentDate: 'yesterday' }, 'ERR_INVALID_OPTION'],
    [es256.sign(claims()), { jwksUri: issuer.jwksUri, currentDate: new Date(NaN) }, 'ERR_INVALID_OPTION'],
    [es256.sign(claims()), { jwksUri: issuer.jwksUri, audience: 42 }, 'ERR_INVALID_OPTION'],
    [es256.sign(claims()), { jwksUri: issuer.jwksUri, algorithms: ['HS256'] }, 'ERR_INVALID_OPTION'],
    [es256.sign(claims()), { jwksUri: issuer.jwksUri, clockToleranceSec: -1 }, 'ERR_INVALID_OPTION'],
    [es256.sign(claims()), {}, 'ERR_JWKS_URI_MISSING'],
  ]) {
    let pending;
    assert.doesNotThrow(() => (pending = cache.verify(token, options)));
    assert.equal(await code(pending), expected);
  }
  let pending;
  assert.doesNotThrow(() => (pending = verifyToken(es256.sign(claims()), issuer.jwksUri, hostile)));
  assert.equal(await code(pending), 'ERR_INVALID_OPTION');
});

test('the errors are JwtError for the token and JwksFetchError for an issuer that is down', async () => {
  const cache = createJwksCache();
  const forged = `${es256.sign(claims()).slice(0, -4)}AAAA`;
  await assert.rejects(cache.verify(forged, { jwksUri: issuer.jwksUri }), (error) => error instanceof JwtError && error.code === 'ERR_JWS_SIGNATURE_INVALID');
  issuer.behave('status', 503);
  await assert.rejects(createJwksCache().verify(es256.sign(claims()), { jwksUri: issuer.jwksUri }), (error) => error instanceof JwksFetchError && error.status === 503);
  await assert.rejects(cache.verify(es256.sign(claims()), { jwksUri: issuer.jwksUri, audience: [] }), JwksArgumentError);
});

test('a repeated token skips the signature check, and its claims are checked on every call', async () => {
  const cache = createJwksCache();
  const token = eddsa.sign(claims());
  const options = { jwksUri: issuer.jwksUri, audience: 'api' };
  const first = await cache.verify(token, options);
  assert.equal(checks, 1);
  for (let i = 0; i < 5; i++) assert.deepEqual(await cache.verify(token, options), first);
  assert.equal(checks, 1, 'no signature check for the repeats');
  // Fresh objects every time: the caller may change them.
  const again = await cache.verify(token, options);
  again.payload.sub = 'mallory';
  again.protectedHeader.alg = 'none';
  assert.equal((await cache.verify(token, options)).payload.sub, 'alice');
  // Each call's own options.
  assert.equal(await code(cache.verify(token, { ...options, audience: 'other' })), 'ERR_JWT_CLAIM_INVALID');
  assert.equal(await code(cache.verify(token, { ...options, issuer: 'https://evil.example' })), 'ERR_JWT_CLAIM_INVALID');
  assert.equal(await code(cache.verify(token, { ...options, algorithms: ['ES256'] })), 'ERR_JWS_ALG_NOT_ALLOWED');
  // Another JWKS: the token was verified with another set, so that one is fetched.
  assert.equal(await code(cache.verify(token, { ...options, jwksUri: `${issuer.origin}/other/jwks.json` })), 'ERR_JWKS_HTTP_STATUS');
  assert.equal(checks, 1, 'refused from the remembered token, without a signature check');
  // A call whose time is past exp stops trusting the entry: checked in full (and refused).
  assert.equal(await code(cache.verify(token, { ...options, currentDate: new Date((nowSec() + 601) * 1000) })), 'ERR_JWT_EXPIRED');
  assert.equal(checks, 2);
  assert.equal(await code(cache.verify(token, options)), 'verified');
  assert.equal(await code(cache.verify(token, options)), 'verified');
  assert.equal(checks, 3, 'remembered again after one full check');
  assert.equal(issuer.jwksRequests, 1);
  assert.equal(issuer.requestsTo('/other/jwks.json'), 1);
});

test('a remembered token is checked again once its set changes, and fails once its key is gone', async () => {
  let now = Date.now();
  const cache = createJwksCache({ ttlMs: 60_000, maxStaleMs: 0, now: () => now });
  const token = es256.sign(claims());
  await cache.verify(token, { jwksUri: issuer.jwksUri });
  await cache.verify(token, { jwksUri: issuer.jwksUri });
  assert.equal(checks, 1);
  // The TTL passes: a new set is fetched, and the token is verified again with it.
  now += 61_000;
  await cache.verify(token, { jwksUri: issuer.jwksUri });
  assert.equal(checks, 2);
  assert.equal(issuer.jwksRequests, 2);
  // The key is withdrawn: once the set is fetched again, the token fails.
  issuer.setKeys([eddsa.jwk]);
  now += 61_000;
  assert.equal(await code(cache.verify(token, { jwksUri: issuer.jwksUri })), 'ERR_JWKS_NO_MATCHING_KEY');
});

test('a remembered token is never used past its exp, whatever the set does', async () => {
  let now = Date.now();
  const cache = createJwksCache({ ttlMs: 3_600_000, now: () => now });
  const token = es256.sign(claims({ exp: Math.floor(now / 1000) + 10 }));
  await cache.verify(token, { jwksUri: issuer.jwksUri });
  now += 11_000;
  assert.equal(await code(cache.verify(token, { jwksUri: issuer.jwksUri })), 'ERR_JWT_EXPIRED');
  assert.equal(checks, 2, 'past exp, the signature is checked again');
  // With a tolerance it is accepted, after a signature check of its own.
  assert.equal(await code(cache.verify(token, { jwksUri: issuer.jwksUri, clockToleranceSec: 60 })), 'verified');
  assert.equal(checks, 3);
});

test('maxVerifiedTokens bounds the remembered tokens (oldest first); 0 turns it off; clear() forgets them', async () => {
  const bounded = createJwksCache({ maxVerifiedTokens: 2 });
  const [a, b, c] = ['a', 'b', 'c'].map((sub) => es256.sign(claims({ sub })));
  for (const token of [a, b, c]) await bounded.verify(token, { jwksUri: issuer.jwksUri });
  assert.equal(checks, 3);
  await bounded.verify(c, { jwksUri: issuer.jwksUri });
  await bounded.verify(b, { jwksUri: issuer.jwksUri });
  assert.equal(checks, 3, 'b and c are remembered');
  await bounded.verify(a, { jwksUri: issuer.jwksUri });
  assert.equal(checks, 4, 'a was the oldest, and was forgotten');

  checks = 0;
  const off = createJwksCache({ maxVerifiedTokens: 0 });
  for (let i = 0; i < 3; i++) await off.verify(a, { jwksUri: issuer.jwksUri });
  assert.equal(checks, 3);

  checks = 0;
  const cleared = createJwksCache();
  await cleared.verify(a, { jwksUri: issuer.jwksUri });
  cleared.clear();
  await cleared.verify(a, { jwksUri: issuer.jwksUri });
  assert.equal(checks, 2);
  assert.throws(() => createJwksCache({ maxVerifiedTokens: -1 }), { code: 'ERR_INVALID_OPTION' });
  assert.throws(() => createJwksCache({ maxVerifiedTokens: 10_001 }), { code: 'ERR_INVALID_OPTION' });
});

test('concurrent verifications on a cold cache share one JWKS request and one key import', async () => {
  const cache = createJwksCache();
  const tokens = Array.from({ length: 50 }, (_, i) => (i % 2 ? es256 : eddsa).sign(claims({ i })));
  const results = await Promise.all(tokens.map((token) => cache.verify(token, { jwksUri: issuer.jwksUri })));
  assert.deepEqual(results.map((r) => r.payload.i), tokens.map((_, i) => i));
  assert.equal(issuer.jwksRequests, 1);
});

test('a token without a kid uses the single key of the set that can verify its algorithm', async () => {
  const unnamed = makeSigner('ES384', { kid: null });
  issuer.setKeys([es256.jwk, unnamed.jwk]);
  const cache = createJwksCache();
  assert.equal((await cache.verify(unnamed.sign(claims()), { jwksUri: issuer.jwksUri })).key.crv, 'P-384');
  assert.equal(await cache.getKey(issuer.jwksUri, 'es'), (await cache.verify(es256.sign(claims()), { jwksUri: issuer.jwksUri })).key);
  const kidless = makeSigner('ES256', { kid: null });
  assert.equal(await code(cache.verify(kidless.sign(claims()), { jwksUri: issuer.jwksUri })), 'ERR_JWS_SIGNATURE_INVALID', 'selects the one ES256 key of the set, which did not sign it');
  issuer.setKeys([es256.jwk, makeSigner('ES256').jwk]);
  assert.equal(await code(createJwksCache().verify(kidless.sign(claims()), { jwksUri: issuer.jwksUri })), 'ERR_JWKS_NO_MATCHING_KEY', 'several ES256 keys: the token must name one');
});
