// decodeJwt: a token's header and payload, not verified, read strictly, through the built package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import * as jose from 'jose';
import { decodeJwt, JwtError, JwksCacheError } from 'jwks-cache';
// The package's own glue (the same module instance): initSync on it returns the wasm exports.
import { initSync } from '../../node_modules/jwks-cache/wasm/jwks_cache.js';

const RFC_VECTORS = JSON.parse(readFileSync(new URL('../data/rfc-vectors.json', import.meta.url), 'utf8'));
const b64url = (text) => Buffer.from(text).toString('base64url');
/** A token with these exact header and payload texts (and a dummy signature). */
const tokenOf = (header, payload) => `${b64url(header)}.${b64url(payload)}.c2ln`;

function assertMalformed(token, reason, label = reason) {
  assert.throws(() => decodeJwt(token), (error) => {
    assert.ok(error instanceof JwtError && error instanceof JwksCacheError, label);
    assert.equal(error.code, 'ERR_JWT_MALFORMED', label);
    assert.match(error.message, /^JWT malformed: /, label);
    if (reason) assert.match(error.message, reason, label);
    return true;
  });
}

test('decodes what jose signs, as jose decodes it', async () => {
  for (const [alg, type, options] of [['RS256', 'rsa', { modulusLength: 2048 }], ['ES256', 'ec', { namedCurve: 'P-256' }], ['EdDSA', 'ed25519', {}]]) {
    const { privateKey } = generateKeyPairSync(type, options);
    const token = await new jose.SignJWT({ sub: 'alice', aud: ['a', 'b'], nested: { __proto__: 1 } })
      .setProtectedHeader({ alg, kid: 'k-1', typ: 'JWT' })
      .setIssuedAt(1_700_000_000)
      .setExpirationTime(1_700_000_600)
      .sign(privateKey);
    const { header, payload } = decodeJwt(token);
    assert.deepEqual(header, jose.decodeProtectedHeader(token), alg);
    assert.deepEqual(payload, jose.decodeJwt(token), alg);
  }
});

test('the RFC examples: JSON payloads decode, the others are not JWTs', () => {
  for (const vector of RFC_VECTORS) {
    let claims;
    try {
      claims = JSON.parse(vector.payload);
    } catch {
      assertMalformed(vector.jws, /payload is not valid JSON/, vector.name);
      continue;
    }
    const { header, payload } = decodeJwt(vector.jws);
    assert.deepEqual(header, vector.protected_header, vector.name);
    assert.deepEqual(payload, claims, vector.name);
  }
});

test('E3: duplicate member names in a token\'s header or claims are refused, escaped or not', () => {
  assertMalformed(tokenOf('{"alg":"none","alg":"RS256"}', '{}'), /duplicate member "alg"/, 'duplicate-header-alg');
  assertMalformed(tokenOf('{"alg":"ES256","kid":"a","kid":"b"}', '{}'), /duplicate member "kid"/, 'duplicate-header-kid');
  assertMalformed(tokenOf('{"alg":"ES256"}', '{"sub":"alice","sub":"admin"}'), /duplicate member "sub"/, 'duplicate-claim-sub');
  assertMalformed(tokenOf('{"alg":"ES256"}', '{"sub":"alice","\\u0073ub":"admin"}'), /duplicate member "sub"/, 'escaped duplicate');
});

test('F1: one spelling per token: exactly three segments of canonical base64url, nothing around them', () => {
  const good = tokenOf('{"alg":"ES256"}', '{"sub":"a"}');
  assert.deepEqual(decodeJwt(good).payload, { sub: 'a' });
  const [h, p, s] = good.split('.');
  const spellings = {
    'surrounding whitespace': ` ${good}`,
    'trailing newline': `${good}\n`,
    'embedded whitespace': `${h}.${p.slice(0, 2)} ${p.slice(2)}.${s}`,
    'padding': `${h}==.${p}.${s}`,
    'standard alphabet': `${h}.${p}.${Buffer.from('sig?>').toString('base64')}`,
    // "si" is c2k; c2l sets bits past the last byte: a second spelling of the same signature.
    'unused bits set': `${h}.${p}.c2l`,
    'impossible length': `${h}.${p}.${s}A`,
    'two segments': `${h}.${p}`,
    'four segments': `${good}.${s}`,
    'five segments (JWE-shaped)': `${good}.${s}.${s}`,
    'percent-encoded dot': `${h}%2E${p}.${s}`,
    'full-width character': `${h}.${p}\uff41.${s}`,
    'zero-width space': `${h}\u200b.${p}.${s}`,
  };
  for (const [name, token] of Object.entries(spellings)) assertMalformed(token, undefined, name);
  assert.deepEqual(decodeJwt(`${h}.${p}.c2k`).payload, { sub: 'a' });
  assertMalformed(`${h}.${p}.c2l`, /signature is not canonical base64url/);
  // Whitespace inside the decoded JSON is legal, and escapes are decoded values.
  assert.deepEqual(decodeJwt(tokenOf('{ "alg" : "\\u0052S256" }', '{\r\n "sub": "a" }')).header, { alg: 'RS256' });
});

test('header and payload must each be one JSON object', () => {
  assertMalformed(tokenOf('["ES256"]', '{}'), /header is not a JSON object/, 'header-not-object-array');
  assertMalformed(tokenOf('"ES256"', '{}'), /header is not a JSON object/, 'header-not-object-string');
  assertMalformed(tokenOf('{"alg":"ES256"} x', '{}'), /header is not valid JSON/, 'header-trailing-garbage');
  assertMalformed(tokenOf('{"alg":"ES256"}', 'null'), /payload is not a JSON object/, 'payload null');
  assertMalformed(tokenOf('{"alg":"ES256"}', '{"sub":"\\ud800"}'), /payload is not valid JSON/, 'lone surrogate');
  assertMalformed(`${b64url('{"alg":"ES256"}')}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.c2ln`, /payload is not valid JSON/, 'bad UTF-8');
  assertMalformed(tokenOf('{"alg":"ES256"}', `{"a":${'['.repeat(20)}${']'.repeat(20)}}`), /nests deeper than 16/, 'deep nesting');
});

test('F2: a token is bounded at 16 KiB before it is split, and a huge one never enters wasm', () => {
  const { memory } = initSync({ module: new Uint8Array(0) });
  const before = memory.buffer.byteLength;
  const huge = tokenOf('{"alg":"ES256"}', JSON.stringify({ pad: 'p'.repeat(50_000_000) }));
  assertMalformed(huge, /longer than 16384 bytes/);
  assert.equal(memory.buffer.byteLength, before, 'the wasm memory did not grow');
  assert.deepEqual(decodeJwt(tokenOf('{"alg":"ES256"}', JSON.stringify({ pad: 'p'.repeat(12_000) }))).payload.pad.length, 12_000);
});

test('anything but a string is refused with ERR_JWT_MALFORMED', () => {
  for (const value of [undefined, null, 42, {}, ['a.b.c'], new String('a.b.c')]) {
    assertMalformed(value, /it must be a string/, String(value));
  }
  assertMalformed('\ud800.\udc00.x', undefined, 'lone surrogates');
});
