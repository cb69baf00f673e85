// The demo behind `make demo`: a local issuer on 127.0.0.1 (no outside network), the built
// package imported by name, and what the cache does at each step, in plain words.
import { createJwksCache } from 'jwks-cache';
import { startJwksServer, makePublicJwk } from '../tests/support/jwks-server.js';
import { makeSigner, nowSec } from '../tests/support/signer.js';

const issuer = await startJwksServer();
issuer.setKeys([makePublicJwk('EC', 'signing-2026-10'), makePublicJwk('RSA', 'signing-2026-11')]);
const cache = createJwksCache({ ttlMs: 10 * 60 * 1000 });
const uri = issuer.jwksUri;

const requestsDuring = async (work) => {
  const before = issuer.jwksRequests;
  const value = await work();
  return [value, issuer.jwksRequests - before];
};
const describe = (jwk) => (jwk ? `${jwk.kid} (${jwk.kty}${jwk.crv ? ' ' + jwk.crv : ''}, ${jwk.alg})` : 'null');
const step = (n, text) => console.log(`\n${n}. ${text}`);

console.log(`jwks-cache demo: local issuer at ${uri}`);
console.log(`   it publishes ${issuer.kids.join(' and ')}`);

step(1, 'Cold cache: 500 requests arrive at once, all asking for signing-2026-11');
let [keys, requests] = await requestsDuring(() => Promise.all(Array.from({ length: 500 }, () => cache.getKey(uri, 'signing-2026-11'))));
console.log(`   -> all 500 got ${describe(keys[0])}; the issuer saw ${requests} JWKS request`);
console.log(`   -> every caller shares one frozen object: ${keys.every((k) => k === keys[0]) && Object.isFrozen(keys[0])}`);

step(2, 'Warm cache: 200,000 lookups of known keys');
const started = performance.now();
[, requests] = await requestsDuring(async () => {
  for (let i = 0; i < 100_000; i++) {
    await cache.getKey(uri, 'signing-2026-10');
    await cache.getKey(uri, 'signing-2026-11');
  }
});
const ms = performance.now() - started;
console.log(`   -> ${ms.toFixed(0)} ms (${((200_000 / ms) * 1000 / 1e6).toFixed(1)} M lookups/s), ${requests} JWKS requests`);

step(3, 'The issuer rotates: publishes signing-2026-12 and drops signing-2026-10');
issuer.setKeys([issuer.keys[1], makePublicJwk('OKP', 'signing-2026-12')]);
let jwk;
[jwk, requests] = await requestsDuring(() => cache.getKey(uri, 'signing-2026-12'));
console.log(`   -> getKey('signing-2026-12'): not in the cached set, fetched again once: ${describe(jwk)} (${requests} request)`);
[jwk, requests] = await requestsDuring(() => cache.getKey(uri, 'signing-2026-10'));
console.log(`   -> getKey('signing-2026-10'): not published any more: ${describe(jwk)} (${requests} request)`);

step(4, 'The issuer breaks: it answers 500');
issuer.behave('status', 500);
let failure;
[failure, requests] = await requestsDuring(() => cache.forceRefresh(uri).catch((error) => error));
console.log(`   -> forceRefresh(uri) fails clearly: ${failure.name} ${failure.code}: "${failure.message}" (${requests} requests: the first and its retries)`);
[jwk, requests] = await requestsDuring(() => cache.getKey(uri, 'signing-2026-12'));
console.log(`   -> the good set was kept: getKey('signing-2026-12') = ${describe(jwk)} (${requests} requests)`);
[jwk, requests] = await requestsDuring(() => cache.getKey(uri, 'made-up-kid'));
console.log(`   -> getKey('made-up-kid') = ${describe(jwk)} at once (${requests} requests): failing fetches back off, and unknown kids have a refetch budget`);

step(5, 'Bad calls get stable error codes');
for (const [args, label] of [[[undefined, 'x'], 'getKey(undefined, "x")'], [[uri, undefined], 'getKey(uri, undefined)']]) {
  const error = await cache.getKey(...args).catch((e) => e);
  console.log(`   -> ${label}: ${error.code}: "${error.message}"`);
}

step(6, 'clear() empties the cache');
issuer.behave('ok');
cache.clear();
[jwk, requests] = await requestsDuring(() => cache.getKey(uri, 'signing-2026-11'));
console.log(`   -> next getKey fetched again: ${describe(jwk)} (${requests} request)`);

step(7, 'Verifying tokens: the issuer signs with an Ed25519 key it publishes');
const signer = makeSigner('EdDSA', { kid: 'signing-2026-12b' });
issuer.setKeys([...issuer.keys, signer.jwk]);
const options = { jwksUri: uri, issuer: 'https://issuer.example', audience: 'demo-api' };
const token = signer.sign({ iss: 'https://issuer.example', aud: 'demo-api', sub: 'alice', exp: nowSec() + 600 });
const verified = await cache.verify(token, options);
console.log(`   -> cache.verify: ${verified.payload.sub}, signed with ${describe(verified.key)}`);
const outcome = (work) => work.then(() => 'verified', (error) => `${error.code}: "${error.message}"`);
const forged = `${token.slice(0, -6)}AAAAAA`;
console.log(`   -> a changed signature: ${await outcome(cache.verify(forged, options))}`);
console.log(`   -> another audience: ${await outcome(cache.verify(token, { ...options, audience: 'other-api' }))}`);
const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${token.split('.')[1]}.`;
console.log(`   -> alg none: ${await outcome(cache.verify(none, options))}`);
const started2 = performance.now();
for (let i = 0; i < 100_000; i++) await cache.verify(token, options);
const ms2 = performance.now() - started2;
console.log(`   -> the same token 100,000 times (verified-token cache): ${ms2.toFixed(0)} ms, ${((100_000 / ms2) * 1000 / 1000).toFixed(0)} k verifies/s`);

console.log(`\nDone: ${issuer.jwksRequests} JWKS requests in all.`);
await issuer.close();
