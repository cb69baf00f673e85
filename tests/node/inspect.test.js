// The inspection API (what the inspector page and the command line show), against real issuers on
// 127.0.0.1: inspectToken's findings must be verification's own verdicts, describeKeySet must say
// what the cache does with each entry, loadKeySet must fetch by the cache's rules, and
// explainError must have a sentence for every documented code.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import {
  createJwksCache,
  memoryStore,
  inspectToken,
  decodeJwt,
  describeKeySet,
  matchKey,
  loadKeySet,
  explainError,
  JwtError,
  JwksResponseError,
  JwksArgumentError,
  JwksFetchError,
} from 'jwks-cache';
import { startJwksServer } from '../support/jwks-server.js';
import { makeSigner, b64url, nowSec } from '../support/signer.js';
import { startOidcIssuer } from '../support/oidc-issuer.js';

const RFC_VECTORS = JSON.parse(readFileSync(new URL('../data/rfc-vectors.json', import.meta.url), 'utf8'));
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const NOW = 1_800_000_000_000;
const NOW_SEC = NOW / 1000;

let issuer;
const signer = makeSigner('ES256', { kid: 'es-1' });
const kidless = makeSigner('EdDSA', { kid: null });

before(async () => {
  issuer = await startJwksServer();
});
after(() => issuer.close());
beforeEach(() => {
  issuer.behave('ok');
  issuer.setKeys([signer.jwk, kidless.jwk]);
  issuer.resetCounts();
});

const unsigned = (header, payload, signature = '') => `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.${signature}`;
const codes = (findings) => findings.map((f) => [f.code, f.refused]);

test('inspectToken: header, payload and the time claims in words, judged at now', () => {
  const token = signer.sign({ iss: 'https://issuer.example', exp: NOW_SEC + 240, nbf: NOW_SEC - 60, iat: NOW_SEC - 7200 });
  const { header, payload, times, findings } = inspectToken(token, { now: NOW });
  assert.deepEqual(header, { alg: 'ES256', kid: 'es-1' });
  assert.equal(payload.iss, 'https://issuer.example');
  assert.deepEqual(findings, []);
  assert.deepEqual(
    times.map(({ claim, text, problem, date }) => [claim, text, problem, date]),
    [
      ['exp', 'expires in 4 min', false, '2027-01-15T08:04:00Z'],
      ['nbf', 'valid since 1 min ago', false, '2027-01-15T07:59:00Z'],
      ['iat', 'issued 2 h ago', false, '2027-01-15T06:00:00Z'],
    ],
  );
});

test('inspectToken: expired, not yet valid, issued in the future, not a NumericDate', () => {
  const at = (payload) => inspectToken(signer.sign(payload), { now: NOW });
  const expired = at({ exp: NOW_SEC - 7200 });
  assert.deepEqual(expired.times.map((t) => [t.text, t.problem]), [['expired 2 h ago', true]]);
  assert.deepEqual(codes(expired.findings), [['ERR_JWT_EXPIRED', true], ['ISS_MISSING', false]]);
  // Expired at the second itself, as verification decides (now >= exp).
  assert.deepEqual(at({ exp: NOW_SEC }).times[0].problem, true);

  const early = at({ exp: NOW_SEC + 7200, nbf: NOW_SEC + 3 * 3600 });
  assert.equal(early.times[1].text, 'not valid before 2027-01-15T11:00:00Z (in 3 h)');
  assert.deepEqual(codes(early.findings)[0], ['ERR_JWT_NOT_YET_VALID', true]);

  const future = at({ exp: NOW_SEC + 7200, iat: NOW_SEC + 120 });
  assert.equal(future.times[1].text, 'issued in the future (in 2 min): verification refuses it');
  assert.deepEqual(codes(future.findings)[0], ['ERR_JWT_CLAIM_INVALID', true]);

  const text = at({ exp: '1800000000' });
  assert.deepEqual(text.times, [{ claim: 'exp', value: '1800000000', date: null, text: 'not a NumericDate (seconds since 1970): verification refuses the token', problem: true }]);
  assert.deepEqual(codes(text.findings)[0], ['ERR_JWT_CLAIM_INVALID', true]);

  const forever = at({ iss: 'x' });
  assert.deepEqual(forever.times, []);
  assert.match(forever.findings[0].message, /"exp" is required/);
});

test('inspectToken: the header problems a decoder sees at once (alg none, HS256, no kid, jku/x5u/jwk, crit)', () => {
  const none = inspectToken(unsigned({ alg: 'none' }, { iss: 'i', exp: NOW_SEC + 60 }), { now: NOW });
  assert.deepEqual(codes(none.findings), [['ERR_JWS_ALG_NOT_ALLOWED', true]]);
  assert.match(none.findings[0].message, /"none"/);

  const hmac = inspectToken(unsigned({ alg: 'HS256', kid: 'k' }, { iss: 'i', exp: NOW_SEC + 60 }, b64url(Buffer.alloc(32))), { now: NOW });
  assert.deepEqual(codes(hmac.findings), [['ERR_JWS_ALG_NOT_ALLOWED', true]]);

  const carried = inspectToken(
    kidless.sign({ iss: 'i', exp: NOW_SEC + 60 }, { header: { jku: 'https://evil.example/jwks', x5u: 'https://evil.example/cert', jwk: { kty: 'OKP' } } }),
    { now: NOW },
  );
  assert.deepEqual(codes(carried.findings), [['KID_MISSING', false], ['HEADER_KEY_IGNORED', false], ['HEADER_KEY_IGNORED', false], ['HEADER_KEY_IGNORED', false]]);
  assert.deepEqual(carried.findings.slice(1).map((f) => f.message.match(/"(\w+)"/)[1]), ['jku', 'x5u', 'jwk']);
  assert.match(carried.findings[0].message, /can verify EdDSA/);

  const crit = inspectToken(signer.sign({ iss: 'i', exp: NOW_SEC + 60 }, { header: { crit: ['exp'] } }), { now: NOW });
  assert.deepEqual(codes(crit.findings), [['ERR_JWS_HEADER_UNSUPPORTED', true]]);
  const short = inspectToken(unsigned({ alg: 'ES256', kid: 'k' }, { iss: 'i', exp: NOW_SEC + 60 }, b64url(Buffer.alloc(63))), { now: NOW });
  assert.deepEqual(codes(short.findings), [['ERR_JWS_SIGNATURE_INVALID', true]]);
});

test('inspectToken refuses what it cannot read, synchronously, with a code', () => {
  for (const token of ['', 'a.b', 'not a token', 42, undefined, 'x'.repeat(20_000)]) {
    assert.throws(() => inspectToken(token), (error) => error instanceof JwtError && error.code === 'ERR_JWT_MALFORMED', String(token).slice(0, 20));
  }
  assert.throws(() => inspectToken(signer.sign({}), { now: Number.NaN }), { code: 'ERR_CLOCK_INVALID' });
  assert.throws(() => inspectToken(signer.sign({}), null), { code: 'ERR_INVALID_OPTION' });
  // The RFC examples read as decodeJwt reads them (RFC 7520's payload is text, not a JWT's claims).
  for (const vector of RFC_VECTORS) {
    const read = (fn) => {
      try {
        return fn(vector.jws).header;
      } catch (error) {
        return error.code;
      }
    };
    assert.deepEqual(read((jws) => inspectToken(jws, { now: NOW })), read(decodeJwt), vector.name);
  }
});

test('a finding refuses a token exactly when verify does, with the same code', async () => {
  const cache = createJwksCache({ now: () => NOW });
  const cases = [
    signer.sign({ exp: NOW_SEC + 60 }),
    signer.sign({ exp: NOW_SEC - 1 }),
    signer.sign({ exp: NOW_SEC + 60, nbf: NOW_SEC + 30 }),
    signer.sign({ exp: NOW_SEC + 60, iat: NOW_SEC + 30 }),
    signer.sign({ iss: 'x' }),
    signer.sign({ exp: NOW_SEC + 60 }, { header: { crit: ['b64'], b64: false } }),
    signer.sign({ exp: NOW_SEC + 60 }, { header: { jku: 'https://evil.example/' } }),
    kidless.sign({ exp: NOW_SEC + 60 }),
    unsigned({ alg: 'none' }, { exp: NOW_SEC + 60 }),
    unsigned({ alg: 'ES256', kid: 'es-1' }, { exp: NOW_SEC + 60 }),
  ];
  for (const token of cases) {
    const refusal = inspectToken(token, { now: NOW }).findings.find((f) => f.refused);
    const outcome = await cache.verify(token, { jwksUri: issuer.jwksUri }).then(() => 'verified', (error) => error.code);
    assert.equal(refusal?.code ?? 'verified', outcome, token);
  }
});

test('describeKeySet: every entry, what it verifies or why the cache ignores it', () => {
  const rsa = RFC_VECTORS.find((v) => v.name === 'rfc7515-A.2-RS256').jwk;
  const body = JSON.stringify({
    keys: [
      { ...signer.jwk, use: 'sig' },
      { ...rsa, kid: 'rsa-2048' },
      kidless.jwk,
      { ...signer.jwk, kid: 'for-enc', use: 'enc' },
      { kty: 'oct', k: 'c2VjcmV0', kid: 'secret' },
      { kty: 'RSA', kid: 'rsa-1024', e: 'AQAB', n: `w${'A'.repeat(170)}` },
      'not a key',
      { ...signer.jwk, kid: 'twin' },
      { ...kidless.jwk, kid: 'twin' },
    ],
  });
  const { isJwkSet, entries } = describeKeySet(body);
  assert.equal(isJwkSet, true);
  assert.deepEqual(
    entries.map((e) => [e.index, e.kid, e.kty, e.crv, e.bits, e.use, e.algorithms.join(), e.ignored]),
    [
      [0, 'es-1', 'EC', 'P-256', null, 'sig', 'ES256', null],
      [1, 'rsa-2048', 'RSA', null, 2048, null, 'RS256,RS384,RS512,PS256,PS384,PS512', null],
      [2, null, 'OKP', 'Ed25519', null, null, 'EdDSA', null],
      [3, 'for-enc', 'EC', 'P-256', null, 'enc', '', 'not for signatures: "use" is not "sig"'],
      [4, 'secret', 'oct', null, null, null, '', 'a shared secret, never used from a published set'],
      [5, 'rsa-1024', 'RSA', null, 1024, null, '', 'refused: RSA modulus must be 2048 to 16384 bits'],
      [6, null, null, null, null, null, '', 'not a JSON object'],
      [7, 'twin', 'EC', 'P-256', null, null, '', 'another entry has this "kid" with a different key: a lookup by it finds no key'],
      [8, 'twin', 'OKP', 'Ed25519', null, null, '', 'another entry has this "kid" with a different key: a lookup by it finds no key'],
    ],
  );
  assert.deepEqual(describeKeySet(new TextEncoder().encode('{"issuer":"x"}')), { isJwkSet: false, entries: [] });
  assert.throws(() => describeKeySet('{"keys":[],"keys":[]}'), (e) => e instanceof JwksResponseError && e.code === 'ERR_JWKS_INVALID_JSON');
  assert.throws(() => describeKeySet('<html>'), { code: 'ERR_JWKS_INVALID_JSON' });
  assert.throws(() => describeKeySet('{"keys":[{},{}]}', { maxKeys: 1 }), { code: 'ERR_JWKS_TOO_MANY_KEYS' });
  assert.throws(() => describeKeySet(42), (e) => e instanceof JwksArgumentError && e.code === 'ERR_INVALID_OPTION');
  assert.throws(() => describeKeySet('{}', { maxKeys: 0 }), { code: 'ERR_INVALID_OPTION' });
  assert.throws(() => describeKeySet('{}', { maxResponseBytes: 0 }), { code: 'ERR_INVALID_OPTION' });
  // A body past the bound is refused before it reaches wasm memory, whose growth is for good.
  const padded = JSON.stringify({ keys: [], pad: 'x'.repeat(600 * 1024) });
  for (const huge of [padded, new TextEncoder().encode(padded), 'x'.repeat(64 * 1024 * 1024)]) {
    assert.throws(() => describeKeySet(huge), (e) => e instanceof JwksResponseError && e.code === 'ERR_JWKS_RESPONSE_TOO_LARGE' && e.message === 'JWKS response is larger than 524288 bytes');
  }
  assert.equal(describeKeySet(padded, { maxResponseBytes: 1024 * 1024 }).isJwkSet, true);
  assert.throws(() => describeKeySet('\u20ac'.repeat(200), { maxResponseBytes: 300 }), { code: 'ERR_JWKS_RESPONSE_TOO_LARGE' }, 'counted in UTF-8 bytes');
});

test('matchKey selects as verification does', () => {
  const keySet = describeKeySet(JSON.stringify({ keys: [signer.jwk, kidless.jwk, { ...signer.jwk, kid: 'enc', use: 'enc' }] }));
  assert.equal(matchKey(keySet, { alg: 'ES256', kid: 'es-1' }).index, 0);
  assert.equal(matchKey(keySet, { alg: 'ES256', kid: 'enc' }).ignored, 'not for signatures: "use" is not "sig"', 'an ignored key is shown with why');
  assert.equal(matchKey(keySet, { alg: 'ES256', kid: 'nope' }), null);
  assert.equal(matchKey(keySet, { alg: 'EdDSA' }).index, 1, 'no kid: the one key that verifies its alg');
  const two = describeKeySet(JSON.stringify({ keys: [{ ...signer.jwk, kid: undefined }, { ...makeSigner('ES256', { kid: null }).jwk }] }));
  assert.equal(matchKey(two, { alg: 'ES256' }), null, 'no kid and two keys: none');
});

test('loadKeySet fetches a set by the cache rules, once, and its cache verifies with it', async () => {
  issuer.setKeys([signer.jwk, { kty: 'oct', k: 'c2VjcmV0', kid: 'secret' }]);
  const { jwksUri, cache, keySet } = await loadKeySet({ jwksUri: issuer.jwksUri });
  assert.equal(jwksUri, issuer.jwksUri);
  assert.deepEqual(keySet.entries.map((e) => e.ignored), [null, 'a shared secret, never used from a published set']);
  const { payload } = await cache.verify(signer.sign({ exp: nowSec() + 60 }), { jwksUri });
  assert.ok(payload.exp);
  assert.equal(issuer.jwksRequests, 1, 'one request for the description and the verification');
  cache.close();
  // A store is left out: each load describes what the issuer serves, fetched for it.
  const store = memoryStore();
  const first = await loadKeySet({ jwksUri: issuer.jwksUri }, { store });
  const second = await loadKeySet({ jwksUri: issuer.jwksUri }, { store });
  assert.equal(second.keySet.entries.length, 2);
  assert.equal(issuer.jwksRequests, 3);
  first.cache.close();
  second.cache.close();
});

test('loadKeySet rejects with the cache errors: status, garbage, redirect, refused URI, bad arguments', async () => {
  issuer.behave('status', 503);
  await assert.rejects(loadKeySet({ jwksUri: issuer.jwksUri }, { maxRetries: 0 }), (e) => e instanceof JwksFetchError && e.code === 'ERR_JWKS_HTTP_STATUS' && e.status === 503);
  issuer.behave('garbage');
  await assert.rejects(loadKeySet({ jwksUri: issuer.jwksUri }), { code: 'ERR_JWKS_INVALID_JSON' });
  issuer.behave('respond', (req, res) => res.writeHead(302, { location: 'https://evil.example/jwks' }).end());
  await assert.rejects(loadKeySet({ jwksUri: issuer.jwksUri }), { code: 'ERR_JWKS_REDIRECT' });
  await assert.rejects(loadKeySet({ jwksUri: 'http://issuer.example/jwks' }), { code: 'ERR_JWKS_URI_INVALID' });
  await assert.rejects(loadKeySet({ jwksUri: 'http://127.0.0.1:1/jwks' }, { maxRetries: 0 }), { code: 'ERR_JWKS_NETWORK' });
  await assert.rejects(loadKeySet({}), { code: 'ERR_INVALID_OPTION' });
  await assert.rejects(loadKeySet({ jwksUri: issuer.jwksUri, issuer: issuer.origin }), { code: 'ERR_INVALID_OPTION' });
  await assert.rejects(loadKeySet(null), { code: 'ERR_INVALID_OPTION' });
});

test('loadKeySet finds a real OpenID provider set by discovery, and cache.discover tells its URI', async () => {
  const op = await startOidcIssuer();
  try {
    const { jwksUri, issuer: found, cache, keySet } = await loadKeySet({ issuer: op.issuer });
    assert.equal(jwksUri, op.jwksUri);
    assert.equal(found, op.issuer);
    assert.deepEqual(keySet.entries.map((e) => e.kid), op.kids);
    assert.ok(keySet.entries.every((e) => e.ignored === null && e.algorithms.length > 0));
    const token = await op.getToken();
    const { header } = inspectToken(token);
    assert.equal(matchKey(keySet, header).kid, header.kid);
    await cache.verify(token, { jwksUri, issuer: op.issuer, audience: 'https://api.example' });
    assert.equal(await cache.discover(op.issuer), op.jwksUri);
    cache.close();
    await assert.rejects(loadKeySet({ issuer: `${op.issuer}/other` }, { maxRetries: 0 }), { code: 'ERR_OIDC_DISCOVERY_INVALID' });
    await assert.rejects(createJwksCache().discover(42), { code: 'ERR_OIDC_DISCOVERY_INVALID' });
  } finally {
    await op.close();
  }
});

test('explainError has a sentence for every documented code, and one for anything else', () => {
  const documented = [...new Set(README.match(/`ERR_[A-Z_]+`/g).map((code) => code.slice(1, -1)))];
  assert.ok(documented.length >= 25, documented.join());
  const general = explainError(new Error('x'));
  for (const code of documented) {
    const sentence = explainError({ code });
    assert.notEqual(sentence, general, code);
    assert.match(sentence, /^[A-Z].+\.$/, code);
  }
  const discovery = ['network', 'timeout', 'status', 'redirect', 'too-large', 'document', 'toString'].map((reason) => explainError({ code: 'ERR_OIDC_DISCOVERY_INVALID', reason }));
  assert.equal(new Set(discovery).size, 6, 'one sentence per reason; a document refused, or a reason unknown, gets the code\'s');
  assert.equal(discovery[5], explainError({ code: 'ERR_OIDC_DISCOVERY_INVALID' }));
  for (const odd of [null, undefined, 'ERR_JWT_EXPIRED', { code: 'toString' }, { code: '__proto__' }, { get code() { throw new Error('x'); } }]) assert.equal(explainError(odd), general);
});

test('time claims read in the unit a person would say', () => {
  const expires = (seconds) => inspectToken(signer.sign({ exp: NOW_SEC + seconds }), { now: NOW }).times[0].text;
  assert.deepEqual(
    [0.4, 59, 60, 1800, 3569, 3570, 3600, 47 * 3600, 48 * 3600, 3 * 365 * 86400].map((s) => expires(Math.round(s))),
    ['expired now', 'expires in 59 s', 'expires in 1 min', 'expires in 30 min', 'expires in 59 min', 'expires in 1 h', 'expires in 1 h', 'expires in 47 h', 'expires in 2 days', 'expires in 3 years'],
  );
  assert.equal(inspectToken(signer.sign({ exp: NOW_SEC - 90 }), { now: NOW }).times[0].text, 'expired 2 min ago');
});

test('loadKeySet releases the connection of a response the cache stops reading (no copy holds it)', async () => {
  const sockets = new Set();
  const endless = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"keys":[],"pad":"');
    const pump = setInterval(() => res.write('x'.repeat(16384)), 2);
    res.on('close', () => clearInterval(pump));
  });
  endless.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => endless.listen(0, '127.0.0.1', resolve));
  try {
    const jwksUri = `http://127.0.0.1:${endless.address().port}/jwks`;
    for (let round = 0; round < 8; round++) {
      await assert.rejects(loadKeySet({ jwksUri }, { maxRetries: 0, maxResponseBytes: 65536 }), (e) => e.code === 'ERR_JWKS_RESPONSE_TOO_LARGE' && e.uri === jwksUri);
    }
    // The cache alone keeps at most a couple of sockets in its pool; a copy of each body kept them
    // all open (8 here) until garbage collection.
    assert.ok(sockets.size <= 2, `${sockets.size} connections still open`);
  } finally {
    endless.closeAllConnections();
    await new Promise((resolve) => endless.close(resolve));
  }
});

test('discovery failures say why and where, without the message having to be read', async () => {
  const op = await startOidcIssuer();
  try {
    const down = 'http://127.0.0.1:1';
    await assert.rejects(loadKeySet({ issuer: down }, { maxRetries: 0 }), (e) => e.code === 'ERR_OIDC_DISCOVERY_INVALID' && e.reason === 'network' && e.uri === `${down}/.well-known/openid-configuration`);
    await assert.rejects(loadKeySet({ issuer: `${op.issuer}/network` }, { maxRetries: 0 }), (e) => e.reason === 'status' && e.status === 404);
    // A document for another issuer (a trailing slash): read, and refused.
    await assert.rejects(loadKeySet({ issuer: `${op.issuer}/` }, { maxRetries: 0 }), (e) => e.reason === 'document' && e.uri === `${op.issuer}/.well-known/openid-configuration`);
    issuer.behave('status', 503);
    await assert.rejects(loadKeySet({ jwksUri: issuer.jwksUri }, { maxRetries: 0 }), (e) => e.code === 'ERR_JWKS_HTTP_STATUS' && e.reason === undefined && e.uri === issuer.jwksUri);
    // An issuer with credentials is refused as a JWKS URI is, before any request, never quoted.
    const asked = [];
    const recording = (input, init) => (asked.push(input), fetch(input, init));
    for (const withCredentials of ['https://alice:s3cret@login.example.com', 'http://alice:s3cret@127.0.0.1:1', 'http://alice:s3cret@10.0.0.1']) {
      await assert.rejects(loadKeySet({ issuer: withCredentials }, { maxRetries: 0, fetch: recording }), (e) => e.reason === 'issuer' && !e.message.includes('s3cret'));
    }
    assert.deepEqual(asked, []);
    const long = `https://${'a'.repeat(3000)}.example`;
    await assert.rejects(loadKeySet({ issuer: long }, { maxRetries: 0, fetch: () => Promise.reject(new Error('no')) }), (e) => e.message.length < 400);
  } finally {
    await op.close();
  }
});

test('odd arguments get coded errors, never a crash', async () => {
  const hostile = new Proxy({}, { get() { throw new Error('trap'); } });
  const token = signer.sign({ exp: NOW_SEC + 60 });
  assert.throws(() => inspectToken(token, hostile), { code: 'ERR_INVALID_OPTION' });
  assert.throws(() => describeKeySet('{"keys":[]}', hostile), { code: 'ERR_INVALID_OPTION' });
  assert.throws(() => matchKey(null, {}), { code: 'ERR_INVALID_OPTION' });
  assert.throws(() => matchKey({}, {}), { code: 'ERR_INVALID_OPTION' });
  await assert.rejects(loadKeySet(hostile), { code: 'ERR_INVALID_OPTION' });
  await assert.rejects(loadKeySet({ jwksUri: issuer.jwksUri }, null), { code: 'ERR_INVALID_OPTION' });
  // A custom fetch whose responses have no body stream: the cache reads them, the set cannot be shown.
  const bare = async () => ({ status: 200, ok: true, headers: new Headers(), arrayBuffer: async () => new TextEncoder().encode('{"keys":[]}').buffer });
  await assert.rejects(loadKeySet({ jwksUri: issuer.jwksUri }, { fetch: bare }), { code: 'ERR_INVALID_OPTION' });
});
