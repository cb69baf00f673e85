// OpenID discovery against a real OpenID Provider (oidc-provider on 127.0.0.1): tokens it issues
// verify with `issuer` alone (and through createJwksCacheFromEnv's JWT_AUTHORITY), and after it
// rotates its keys new tokens verify without a restart. A hostile discovery document is refused.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createJwksCache, createJwksCacheFromEnv } from 'jwks-cache';
import { startOidcIssuer, DEFAULT_AUDIENCE } from '../support/oidc-issuer.js';

let op;
before(async () => {
  op = await startOidcIssuer();
});
after(() => op.close());

test('a token of a real OpenID provider verifies with issuer alone: discovery finds its jwks_uri, once', async () => {
  const requests = [];
  const fetch = (input, init) => (requests.push(String(input)), globalThis.fetch(input, init));
  const cache = createJwksCache({ fetch });
  const token = await op.getToken();
  const { payload, protectedHeader } = await cache.verify(token, { issuer: op.issuer, audience: DEFAULT_AUDIENCE });
  assert.equal(payload.iss, op.issuer);
  assert.equal(protectedHeader.kid, op.kids[0]);
  assert.deepEqual(requests, [op.discoveryUri, op.jwksUri]);
  // Known now: a second token costs no request (and the warm path does not wait on discovery).
  await cache.verify(await op.getToken(), { issuer: op.issuer, audience: DEFAULT_AUDIENCE });
  assert.equal(requests.length, 2);
  assert.equal(cache.status(op.jwksUri).kids, op.kids.length);
});

test('after the provider rotates its keys, new tokens verify without a restart', async () => {
  const cache = createJwksCache();
  const options = { issuer: op.issuer, audience: DEFAULT_AUDIENCE };
  await cache.verify(await op.getToken(), options);
  for (let rotation = 0; rotation < 2; rotation++) {
    const kid = await op.rotateKeys();
    const token = await op.getToken();
    const { protectedHeader } = await cache.verify(token, options);
    assert.equal(protectedHeader.kid, kid, `rotation ${rotation + 1}`);
  }
});

test('createJwksCacheFromEnv: JWT_AUTHORITY and JWT_AUDIENCE are the verify defaults', async () => {
  const cache = await createJwksCacheFromEnv({ JWT_AUTHORITY: op.issuer, JWT_AUDIENCE: `https://x.example, ${DEFAULT_AUDIENCE}` });
  const { payload } = await cache.verify(await op.getToken());
  assert.equal(payload.aud, DEFAULT_AUDIENCE);
  await assert.rejects(cache.verify(await op.getToken({ audience: 'https://other.example' })), { code: 'ERR_JWT_CLAIM_INVALID' });
  // A call's own options win over the defaults.
  await cache.verify(await op.getToken({ audience: 'https://other.example' }), { audience: 'https://other.example' });
  cache.close();
});

test('createJwksCacheFromEnv names the variable it refuses', async () => {
  const cases = [
    [{ JWKS_CACHE_TYPE: 'memcached' }, 'JWKS_CACHE_TYPE'],
    [{ JWKS_CACHE_TYPE: 'redis' }, 'REDIS_URL'],
    [{ JWKS_CACHE_TYPE: 'redis', REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
    [{ JWKS_REFRESH_INTERVAL_MINUTES: 'abc' }, 'JWKS_REFRESH_INTERVAL_MINUTES'],
    [{ JWKS_REFRESH_INTERVAL_MINUTES: '0' }, 'JWKS_REFRESH_INTERVAL_MINUTES'],
    [{ JWKS_ENABLE_BACKGROUND_REFRESH: 'maybe' }, 'JWKS_ENABLE_BACKGROUND_REFRESH'],
    [{ JWT_JWKS_URL: 'not a url' }, 'JWT_JWKS_URL'],
    [{ JWT_AUTHORITY: 'nope' }, 'JWT_AUTHORITY'],
  ];
  for (const [env, name] of cases) {
    await assert.rejects(createJwksCacheFromEnv(env), (error) => error.code === 'ERR_INVALID_OPTION' && error.message.includes(name), JSON.stringify(env));
  }
  const quiet = await createJwksCacheFromEnv({});
  quiet.close();
});

/** A server that serves one discovery document (and counts requests), at its own origin. */
async function serveDiscovery(document) {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    const origin = `http://127.0.0.1:${server.address().port}`;
    const body = typeof document === 'function' ? document(origin) : document;
    res.writeHead(200, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };
  return { origin, get requests() { return requests; }, close };
}

/** A token claiming `iss` (its signature is never checked: discovery fails first). */
function tokenOf(iss) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'ES256', kid: 'k' })}.${part({ iss, exp: Math.floor(Date.now() / 1000) + 600 })}.${Buffer.alloc(64).toString('base64url')}`;
}

test('a discovery document for another issuer, or naming a jwks_uri the cache may not fetch, is refused (ERR_OIDC_DISCOVERY_INVALID)', async () => {
  const hostile = [
    (origin) => ({ issuer: op.issuer, jwks_uri: op.jwksUri, note: `served by ${origin}` }), // someone else's issuer
    (origin) => ({ issuer: origin, jwks_uri: 'http://attacker.example/keys' }), // plain http off loopback
    (origin) => ({ issuer: origin }), // no jwks_uri
    (origin) => `{"issuer":"${origin}","issuer":"${origin}","jwks_uri":"${origin}/k"}`, // duplicate member
  ];
  for (const document of hostile) {
    const server = await serveDiscovery(document);
    const cache = createJwksCache();
    const token = tokenOf(server.origin);
    await assert.rejects(cache.verify(token, { issuer: server.origin }), { code: 'ERR_OIDC_DISCOVERY_INVALID', name: 'JwksResponseError' });
    // Remembered for a while: a second call does not ask again.
    await assert.rejects(cache.verify(token, { issuer: server.origin }), { code: 'ERR_OIDC_DISCOVERY_INVALID' });
    assert.equal(server.requests, 1);
    await server.close();
  }
});

test('an issuer that is not an https URL is refused before any request', async () => {
  const cache = createJwksCache({ fetch: () => assert.fail('no request') });
  for (const issuer of ['http://issuer.example', 'https://issuer.example/?tenant=1', 'issuer.example']) {
    await assert.rejects(cache.verify(tokenOf(issuer), { issuer }), { code: 'ERR_OIDC_DISCOVERY_INVALID' }, issuer);
  }
});

test('a discovered issuer whose discovery later fails keeps its JWKS URI; one never discovered fails', async () => {
  let now = Date.now();
  let discoveryDown = false;
  const fetch = (input, init) =>
    discoveryDown && String(input).includes('openid-configuration') ? Promise.reject(new TypeError('fetch failed')) : globalThis.fetch(input, init);
  const cache = createJwksCache({ now: () => now, fetch });
  const options = { issuer: op.issuer, audience: DEFAULT_AUDIENCE };
  await cache.verify(await op.getToken(), options);
  const token = await op.getToken();
  // Past the discovery TTL (1 h) with the discovery endpoint down: the URI found before serves.
  now += 61 * 60_000;
  discoveryDown = true;
  const { payload } = await cache.verify(token, { ...options, currentDate: new Date() });
  assert.equal(payload.iss, op.issuer);
  const fresh = createJwksCache({ fetch });
  await assert.rejects(fresh.verify(token, options), { code: 'ERR_OIDC_DISCOVERY_INVALID', message: /network/ });
});

test('a malformed token, or one of another issuer, is refused without waiting on discovery', async () => {
  let discoveries = 0;
  const cache = createJwksCache({ fetch: () => (discoveries++, new Promise(() => {})) });
  await assert.rejects(cache.verify('a.b.c', { issuer: 'https://issuer.example' }), { code: 'ERR_JWT_MALFORMED' });
  await assert.rejects(cache.verify(tokenOf('https://other.example'), { issuer: 'https://issuer.example' }), { code: 'ERR_JWT_CLAIM_INVALID' });
  assert.equal(discoveries, 0);
});

test('allowedJwksUris holds the discovery request to its prefixes too', async () => {
  const cache = createJwksCache({ allowedJwksUris: ['https://trusted.example/'], fetch: () => assert.fail('no request') });
  await assert.rejects(cache.verify(tokenOf('https://untrusted.example'), { issuer: 'https://untrusted.example' }), {
    code: 'ERR_OIDC_DISCOVERY_INVALID',
    message: /allowedJwksUris/,
  });
});

test('past its hour, a discovered JWKS URI serves at once while discovery runs again in the background', async () => {
  let now = Date.now();
  let hang = false;
  const fetch = (input, init) => (hang && String(input).includes('openid-configuration') ? new Promise(() => {}) : globalThis.fetch(input, init));
  const cache = createJwksCache({ now: () => now, fetch, timeoutMs: 2_000 });
  const options = { issuer: op.issuer, audience: DEFAULT_AUDIENCE };
  await cache.verify(await op.getToken(), options);
  const token = await op.getToken();
  now += 61 * 60_000;
  hang = true;
  const started = performance.now();
  await cache.verify(token, { ...options, currentDate: new Date() });
  assert.ok(performance.now() - started < 1_000, 'did not wait on the hanging discovery');
});
