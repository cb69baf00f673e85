// Every entry of ATTACKS.md (shared/testdata), as `verify` / `verifyJws` meet it. The held-out
// vectors the entries name are not here: each test builds its own tokens for what the entry
// describes, signed with real keys (tests/support/signer.js) and served by a real issuer
// (tests/support/jwks-server.js). Where an entry says a refused token must cause no fetch, the
// test counts the issuer's JWKS requests.
//
// Entries whose "Must do" belongs to the resilience/SSRF work (issue 11: B3's early iss check, B4
// https-only, B5 redirects, C2 refetch cooldown, C3 stale-while-revalidate) assert the required
// behaviour and are marked `todo` until it is built.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { constants, createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify as nodeVerify } from 'node:crypto';
import { createJwksCache, verifyToken, JwtError } from 'jwks-cache';
import { startJwksServer, JWKS_PATH } from '../support/jwks-server.js';
import { makeSigner, b64url, ALGORITHMS } from '../support/signer.js';

const NOW = 1_700_000_000;
const AT = new Date(NOW * 1000);
const ISS = 'https://issuer.example';
const AUD = 'api://orders';

const vectorKeys = JSON.parse(readFileSync(new URL('../data/jwk-vectors.json', import.meta.url))).keys;
const rfcVectors = JSON.parse(readFileSync(new URL('../data/rfc-vectors.json', import.meta.url)));
/** A JWK of jwk-vectors.json, with the kid the test names it by. */
const vectorJwk = (name, kid = name) => ({ ...vectorKeys.find((k) => k.name === name).jwk, kid });

// An attacker's own key and self-signed certificate (CN=attacker.example, made with openssl for
// this file): for B1's x5c, a certificate that really holds the key that signed the token.
const ATTACKER_KEY = createPrivateKey(`-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzp5nqrbdnYTeqMfF
CxvaMsw71cM9PWSXeGLD/vjjSAmhRANCAAQG3h/8oZgnzuTJZ8x4yOiFxXmO/kuO
WDSgdNuJWkdyyWIIgCMhCSjYOBzs4FNrVJJJTnC3uy/Tfru1AjhGXbqS
-----END PRIVATE KEY-----`);
const ATTACKER_CERT =
  'MIIBjjCCATOgAwIBAgIUGPRiBnsMY182J4RDGH7ERg2i1aYwCgYIKoZIzj0EAwIwGzEZMBcGA1UEAwwQYXR0YWNrZXIuZXhhbXBsZTAgFw0yNjExMjYwNTEwMTBaGA8y' +
  'MTI2MTEwMjA1MTAxMFowGzEZMBcGA1UEAwwQYXR0YWNrZXIuZXhhbXBsZTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABAbeH/yhmCfO5MlnzHjI6IXFeY7+S45YNKB0' +
  '24laR3LJYgiAIyEJKNg4HOzgU2tUkklOcLe7L9N+u7UCOEZdupKjUzBRMB0GA1UdDgQWBBQsdqL2GSeAhhP1GENSYrqiVtY8rzAfBgNVHSMEGDAWgBQsdqL2GSeAhhP1' +
  'GENSYrqiVtY8rzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQC1nBv2z9UOgPXmIEEtG9a2m65E4afCdHuhcuUL1s+pzAIhAJMF/igkteax3vwZDr+D' +
  'kcD/F/S7EcetjcwKP9CiLUGq';
const ATTACKER_JWK = { ...createPublicKey(ATTACKER_KEY).export({ format: 'jwk' }), kid: 'attacker', alg: 'ES256' };

/** Curve orders n of P-256, P-384, P-521 (SEC 2), and the Ed25519 group order L (RFC 8032). */
const ORDER = {
  ES256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  ES384: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  ES512: BigInt(`0x1${'f'.repeat(65)}a51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409`),
};
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;
const COORDINATE = { ES256: 32, ES384: 48, ES512: 66 };

/** How each algorithm signs (as signer.js), for keys signing under an algorithm of our choosing. */
const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
const p1363 = { dsaEncoding: 'ieee-p1363' };
const SIGNING = {
  RS256: ['sha256', {}], RS384: ['sha384', {}], RS512: ['sha512', {}],
  PS256: ['sha256', pss], PS384: ['sha384', pss], PS512: ['sha512', pss],
  ES256: ['sha256', p1363], ES384: ['sha384', p1363], ES512: ['sha512', p1363],
  EdDSA: [null, {}],
};

/** A header or payload segment: an object is JSON, a string is the exact text, a Buffer the exact bytes. */
const segment = (part) => b64url(typeof part === 'string' || Buffer.isBuffer(part) ? part : JSON.stringify(part));
/** A compact JWS of these header and payload, signed by `privateKey` as `alg` signs. */
function jws(alg, privateKey, header, payload) {
  const input = `${segment(header)}.${segment(payload)}`;
  const [digest, options] = SIGNING[alg];
  return `${input}.${b64url(sign(digest, Buffer.from(input), { key: privateKey, ...options }))}`;
}
const claims = (extra = {}) => ({ iss: ISS, sub: 'alice', aud: AUD, iat: NOW - 10, exp: NOW + 600, ...extra });
/** A token by `signer` (its alg and kid unless `header` says otherwise). */
const tokenBy = (signer, extraClaims, header = {}) =>
  jws(header.alg ?? signer.alg, signer.privateKey, { alg: signer.alg, ...(signer.kid ? { kid: signer.kid } : {}), ...header }, claims(extraClaims));
const signatureOf = (token) => Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');
const withSignature = (token, bytes) => `${token.slice(0, token.lastIndexOf('.'))}.${b64url(bytes)}`;
const unsigned = (header, payload) => `${segment(header)}.${segment(payload)}.`;
const toBytes = (value, size) => Buffer.from(value.toString(16).padStart(size * 2, '0'), 'hex');
const toBigInt = (bytes) => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
const withoutKid = ({ kid, ...jwk }) => jwk;

let issuer;
let attacker;
/** Signers: RS256 and PS256 keys whose JWK names its alg, an RSA key without alg, ES256/384/512, EdDSA. */
let rs, ps, rsaAny, es256, es384, es512, ed;
let defaultKeys;

before(async () => {
  [issuer, attacker] = await Promise.all([startJwksServer(), startJwksServer()]);
  rs = makeSigner('RS256', { kid: 'rs' });
  ps = makeSigner('PS256', { kid: 'ps' });
  rsaAny = makeSigner('RS256', { kid: 'rsa-any', jwkMembers: {} });
  es256 = makeSigner('ES256', { kid: 'es' });
  es384 = makeSigner('ES384', { kid: 'es384' });
  es512 = makeSigner('ES512', { kid: 'es512' });
  ed = makeSigner('EdDSA', { kid: 'ed' });
  defaultKeys = [rs.jwk, ps.jwk, rsaAny.jwk, es256.jwk, es384.jwk, es512.jwk, ed.jwk];
});
after(() => Promise.all([issuer.close(), attacker.close()]));
beforeEach(() => {
  issuer.setKeys(defaultKeys);
  issuer.behave('ok');
  issuer.resetCounts();
  attacker.setKeys([ATTACKER_JWK]);
  attacker.behave('ok');
  attacker.resetCounts();
});

const options = (extra = {}) => ({ jwksUri: issuer.jwksUri, currentDate: AT, ...extra });

/** Asserts that `promise` rejects with a token error (JwtError) of this code. */
async function refusedWith(promise, code, label) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.code, code, `${label}: ${error.message}`);
    if (code.startsWith('ERR_JWT') || code.startsWith('ERR_JWS') || code === 'ERR_JWKS_NO_MATCHING_KEY') {
      assert.ok(error instanceof JwtError, `${label}: a JwtError`);
    }
    return true;
  }, label);
}
const refused = (cache, token, code, label = code, extra = {}) => refusedWith(cache.verify(token, options(extra)), code, label);

/** A cache whose fetch records every URL it is asked for. */
function recordingCache(cacheOptions = {}) {
  const urls = [];
  const cache = createJwksCache({
    ...cacheOptions,
    fetch: (input, init) => {
      urls.push(String(input));
      return fetch(input, init);
    },
  });
  return { cache, urls };
}

// ---------------------------------------------------------------------------------------------
// A. Algorithm selection
// ---------------------------------------------------------------------------------------------

test('A1 alg-none: none, None, NONE, nOnE with an empty signature are refused, before any fetch', async () => {
  const cache = createJwksCache();
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    for (const header of [{ alg }, { alg, kid: 'rs' }, { alg, typ: 'JWT' }]) {
      const token = unsigned(header, claims());
      await refused(cache, token, 'ERR_JWS_ALG_NOT_ALLOWED', `${JSON.stringify(header)} empty signature`);
      await refusedWith(cache.verifyJws(token, { jwksUri: issuer.jwksUri }), 'ERR_JWS_ALG_NOT_ALLOWED', `verifyJws ${alg}`);
    }
  }
  // RFC 7515 A.5, the unsecured example.
  const a5 = rfcVectors.find((v) => v.name === 'rfc7515-A.5-none');
  await refused(cache, a5.jws, 'ERR_JWS_ALG_NOT_ALLOWED', 'rfc7515-A.5-none');
  await refusedWith(cache.verifyJws(a5.jws, { jwksUri: issuer.jwksUri }), 'ERR_JWS_ALG_NOT_ALLOWED', 'rfc7515-A.5-none (verifyJws)');
  await refusedWith(verifyToken(a5.jws, issuer.jwksUri, { currentDate: AT }), 'ERR_JWS_ALG_NOT_ALLOWED', 'rfc7515-A.5-none (verifyToken)');
  assert.equal(issuer.jwksRequests, 0, 'no key was looked up');
});

test('A1 alg-none: none with a signature, and every case or spelling variant of an allowed alg, is ERR_JWS_ALG_NOT_ALLOWED before any fetch', async () => {
  const cache = createJwksCache();
  // A signature that is real (by the issuer's RSA key over the exact signing input): still refused.
  for (const alg of ['none', 'None', 'NONE', 'nOnE', 'rs256', 'Rs256', 'RS256 ', ' RS256', 'RS256\u0000', 'RS 256', 'RSA256', 'RS-256', 'ES256K', 'EdDSA25519', 'ed25519', '']) {
    const token = jws('RS256', rs.privateKey, { alg, kid: 'rs' }, claims());
    await refused(cache, token, 'ERR_JWS_ALG_NOT_ALLOWED', JSON.stringify(alg));
    await refusedWith(cache.verifyJws(token, { jwksUri: issuer.jwksUri }), 'ERR_JWS_ALG_NOT_ALLOWED', `verifyJws ${JSON.stringify(alg)}`);
  }
  assert.equal(issuer.jwksRequests, 0, 'no key was looked up');
});

test('A1 alg-none: an RS256 token with its signature stripped is refused (tamper-rs256-empty-signature), before any fetch', async () => {
  const cache = createJwksCache();
  const good = tokenBy(rs);
  const stripped = good.slice(0, good.lastIndexOf('.') + 1);
  await refused(cache, stripped, 'ERR_JWT_MALFORMED', 'RS256 header, empty signature');
  await refused(cache, unsigned({ alg: 'ES256', kid: 'es' }, claims()), 'ERR_JWT_MALFORMED', 'ES256 header, empty signature');
  await refused(cache, unsigned({ alg: 'EdDSA' }, claims()), 'ERR_JWT_MALFORMED', 'EdDSA header, no kid, empty signature');
  assert.equal(issuer.jwksRequests, 0);
  // The same token with its signature verifies: the refusal was the missing signature.
  assert.equal((await cache.verify(good, options())).payload.sub, 'alice');
});

test('A1 alg-none: a header without alg, with a non-string alg, or empty, is refused; the algorithm is never inferred from the key', async () => {
  const cache = createJwksCache();
  const input = (header) => jws('RS256', rs.privateKey, header, claims());
  const cases = [
    [{ kid: 'rs' }, 'alg missing'],
    [{}, 'empty header object'],
    [{ alg: null, kid: 'rs' }, 'alg null'],
    [{ alg: 256, kid: 'rs' }, 'alg a number'],
    [{ alg: ['RS256'], kid: 'rs' }, 'alg an array'],
    [{ alg: { name: 'RS256' }, kid: 'rs' }, 'alg an object'],
    [{ alg: true, kid: 'rs' }, 'alg a boolean'],
  ];
  for (const [header, label] of cases) await refused(cache, input(header), 'ERR_JWT_MALFORMED', label);
  // An empty protected header segment (rfc7520-4.8-sig2-es512-empty-protected-header).
  const emptyHeader = jws('ES512', es512.privateKey, '', claims());
  await refused(cache, emptyHeader, 'ERR_JWT_MALFORMED', 'empty protected header segment');
  // The allow-list holds only the key's own algorithm: still nothing is inferred.
  await refused(cache, input({ kid: 'rs' }), 'ERR_JWT_MALFORMED', 'alg missing, algorithms [RS256]', { algorithms: ['RS256'] });
  assert.equal(issuer.jwksRequests, 0);
});

test('A1 alg-none: alg is checked exactly against the caller allow-list before any key lookup; none/HS* cannot be allowed', async () => {
  const cache = createJwksCache();
  const token = tokenBy(rs);
  for (const algorithms of [['ES256'], ['PS256'], ['RS384', 'RS512'], ['EdDSA', 'ES512']]) {
    await refused(cache, token, 'ERR_JWS_ALG_NOT_ALLOWED', `RS256 token, algorithms ${algorithms}`, { algorithms });
    await refusedWith(cache.verifyJws(token, { jwksUri: issuer.jwksUri, algorithms }), 'ERR_JWS_ALG_NOT_ALLOWED', `verifyJws ${algorithms}`);
  }
  assert.equal(issuer.jwksRequests, 0, 'a refused algorithm never causes a fetch');
  for (const algorithms of [['none'], ['None'], ['HS256'], ['rs256'], ['RS256', 'none'], [], 'RS256', [256]]) {
    await refusedWith(cache.verify(token, options({ algorithms })), 'ERR_INVALID_OPTION', `algorithms ${JSON.stringify(algorithms)}`);
  }
  assert.equal(issuer.jwksRequests, 0);
  // Allowed: it verifies (one fetch).
  assert.equal((await cache.verify(token, options({ algorithms: ['ES256', 'RS256'] }))).protectedHeader.alg, 'RS256');
  assert.equal(issuer.jwksRequests, 1);
  // A cached set changes nothing: the allow-list still comes first.
  await refused(cache, tokenBy(rs, { jti: 'second' }), 'ERR_JWS_ALG_NOT_ALLOWED', 'warm cache', { algorithms: ['ES256'] });
});

test('A2 alg-confusion: HS256/384/512 keyed with the RSA or EC public key (PEM, DER, JWK text) is ERR_JWS_ALG_NOT_ALLOWED and never verifies', async () => {
  const cache = createJwksCache();
  const rsaSpkiPem = rs.publicKey.export({ format: 'pem', type: 'spki' });
  const secrets = {
    'rsa-public-key-spki-pem': rsaSpkiPem,
    'rsa-public-key-pkcs1-pem': rs.publicKey.export({ format: 'pem', type: 'pkcs1' }),
    'rsa-public-key-spki-der': rs.publicKey.export({ format: 'der', type: 'spki' }),
    'rsa-public-key-jwk-json': JSON.stringify(rs.jwk),
    'rsa-public-key-whitespace-prefixed-pem': `\n  ${rsaSpkiPem}`,
    'ec-public-key-spki-pem': es256.publicKey.export({ format: 'pem', type: 'spki' }),
  };
  for (const [name, secret] of Object.entries(secrets)) {
    const kid = name.startsWith('ec') ? 'es' : 'rs';
    for (const [alg, digest] of [['HS256', 'sha256'], ['HS384', 'sha384'], ['HS512', 'sha512']]) {
      const input = `${segment({ alg, kid })}.${segment(claims())}`;
      const token = `${input}.${b64url(createHmac(digest, secret).update(input).digest())}`;
      await refused(cache, token, 'ERR_JWS_ALG_NOT_ALLOWED', `${alg} ${name}`);
      await refused(cache, token, 'ERR_JWS_ALG_NOT_ALLOWED', `${alg} ${name}, every algorithm allowed`, { algorithms: ALGORITHMS });
      await refusedWith(cache.verifyJws(token, { jwksUri: issuer.jwksUri }), 'ERR_JWS_ALG_NOT_ALLOWED', `verifyJws ${alg} ${name}`);
    }
  }
  assert.equal(issuer.jwksRequests, 0, 'an HS* token never reaches key lookup');
});

test('A2 alg-confusion: a kty "oct" key in the fetched set is never used, whatever the token says', async () => {
  const cache = createJwksCache();
  const oct = vectorJwk('oct-symmetric-key-in-jwks', 'hmac');
  issuer.setKeys([oct, withoutKid(rs.jwk)]);
  const input = `${segment({ alg: 'HS256', kid: 'hmac' })}.${segment(claims())}`;
  const hs = `${input}.${b64url(createHmac('sha256', Buffer.from(oct.k, 'base64url')).update(input).digest())}`;
  await refused(cache, hs, 'ERR_JWS_ALG_NOT_ALLOWED', 'HS256 signed with the oct key of the set');
  await refused(cache, jws('RS256', rs.privateKey, { alg: 'RS256', kid: 'hmac' }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', 'RS256 naming the oct kid');
  for (const alg of ['ES256', 'EdDSA', 'PS256']) {
    const signer = { ES256: es256, EdDSA: ed, PS256: ps }[alg];
    await refused(cache, jws(alg, signer.privateKey, { alg, kid: 'hmac' }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', `${alg} naming the oct kid`);
  }
  // Without a kid, the oct key is not counted: the RSA key is the only one, and verifies.
  const kidless = jws('RS256', rs.privateKey, { alg: 'RS256' }, claims());
  assert.deepEqual((await cache.verify(kidless, options())).key, withoutKid(rs.jwk));
});

test('A3 key-alg-mismatch: a PS256 token (validly signed) naming an RS256-alg key is refused, and never falls back to another key', async () => {
  const cache = createJwksCache();
  // rs's JWK says "alg":"RS256": PS256, RS384, RS512, PS384, PS512 with that key are all refused,
  // although each signature is real.
  for (const alg of ['PS256', 'PS384', 'PS512', 'RS384', 'RS512']) {
    await refused(cache, jws(alg, rs.privateKey, { alg, kid: 'rs' }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', `${alg} on the RS256 key`);
  }
  // ps's JWK says PS256: RS256 by the same key is refused too.
  await refused(cache, jws('RS256', ps.privateKey, { alg: 'RS256', kid: 'ps' }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', 'RS256 on the PS256 key');
  // Signed by the PS256 key, naming the RS256 key: no fallback to the key that would verify it.
  await refused(cache, jws('PS256', ps.privateKey, { alg: 'PS256', kid: 'rs' }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', 'PS256 by ps naming rs');
  // Controls: each key verifies its own algorithm; an RSA key without alg serves its whole family.
  assert.equal((await cache.verify(tokenBy(rs), options())).key.kid, 'rs');
  assert.equal((await cache.verify(tokenBy(ps), options())).key.kid, 'ps');
  for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']) {
    const verified = await cache.verify(jws(alg, rsaAny.privateKey, { alg, kid: 'rsa-any' }, claims()), options());
    assert.equal(verified.protectedHeader.alg, alg);
  }
});

test('A3 key-alg-mismatch: a kid resolving to the wrong kty or crv finds no key (kid-resolves-to-wrong-kty)', async () => {
  const cache = createJwksCache();
  const cases = [
    ['ES256', es256.privateKey, 'rs', 'ES256 naming an RSA key'],
    ['ES256', es256.privateKey, 'es384', 'ES256 naming a P-384 key'],
    ['ES384', es384.privateKey, 'es', 'ES384 naming a P-256 key'],
    ['ES512', es512.privateKey, 'es', 'ES512 naming a P-256 key'],
    ['EdDSA', ed.privateKey, 'es', 'EdDSA naming an EC key'],
    ['RS256', rs.privateKey, 'es', 'RS256 naming an EC key'],
    ['RS256', rs.privateKey, 'ed', 'RS256 naming an OKP key'],
    ['PS256', ps.privateKey, 'ed', 'PS256 naming an OKP key'],
  ];
  for (const [alg, key, kid, label] of cases) await refused(cache, jws(alg, key, { alg, kid }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', label);

  // Keys of jwk-vectors.json: an EC key that says RS256, X25519 (key agreement), Ed448.
  issuer.setKeys([vectorJwk('alg-rs256-on-ec-key', 'ecrs'), vectorJwk('okp-x25519', 'x25519'), vectorJwk('okp-ed448', 'ed448'), es256.jwk]);
  const fresh = createJwksCache();
  await refused(fresh, jws('RS256', rs.privateKey, { alg: 'RS256', kid: 'ecrs' }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', 'alg-rs256-on-ec-key, RS256');
  await refused(fresh, jws('ES256', es256.privateKey, { alg: 'ES256', kid: 'ecrs' }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', 'alg-rs256-on-ec-key, ES256');
  await refused(fresh, jws('EdDSA', ed.privateKey, { alg: 'EdDSA', kid: 'x25519' }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', 'okp-x25519');
  await refused(fresh, jws('EdDSA', ed.privateKey, { alg: 'EdDSA', kid: 'ed448' }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', 'okp-ed448');
  assert.equal((await fresh.verify(tokenBy(es256), options())).key.kid, 'es', 'the rest of the set verifies');
});

test('A3 key-alg-mismatch: a header alg changed from ES256 to ES384 (tamper-header-alg-es256-to-es384) never verifies', async () => {
  const cache = createJwksCache();
  const good = tokenBy(es256);
  const [, payload, signature] = good.split('.');
  for (const alg of ['ES384', 'ES512']) {
    const swapped = `${segment({ alg, kid: 'es' })}.${payload}.${signature}`;
    await refused(cache, swapped, 'ERR_JWS_SIGNATURE_INVALID', `ES256 signature under ${alg}`);
  }
  // A P-384 key whose kid the attacker names, with the ES256 signature re-labelled: still refused.
  const relabelled = `${segment({ alg: 'ES384', kid: 'es384' })}.${payload}.${signature}`;
  await refused(cache, relabelled, 'ERR_JWS_SIGNATURE_INVALID', 'ES256 signature naming the P-384 key');
});

test('A4 use-enc: keys for encryption (use enc, key_ops without verify) never verify, even a valid signature; absent use does not disqualify', async () => {
  const cache = createJwksCache();
  const enc = makeSigner('ES256', { kid: 'enc', jwkMembers: { use: 'enc' } });
  const variants = [
    ['enc', { use: 'enc' }, false],
    ['enc-alg', { use: 'enc', alg: 'ES256' }, false],
    ['use-Sig', { use: 'Sig' }, false],
    ['use-empty', { use: '' }, false],
    ['use-number', { use: 1 }, false],
    ['ops-encrypt', { key_ops: ['encrypt', 'wrapKey'] }, false],
    ['ops-sign', { key_ops: ['sign'] }, false],
    ['ops-empty', { key_ops: [] }, false],
    ['ops-string', { key_ops: 'verify' }, false],
    ['sig-ops-encrypt', { use: 'sig', key_ops: ['encrypt'] }, false],
    ['no-use', {}, true],
    ['sig', { use: 'sig' }, true],
    ['ops-verify', { key_ops: ['verify'] }, true],
    ['sig-ops-verify', { use: 'sig', key_ops: ['verify'] }, true],
    ['ops-sign-verify', { key_ops: ['sign', 'verify'] }, true],
  ];
  const base = withoutKid(enc.jwk);
  delete base.use;
  issuer.setKeys(variants.map(([kid, members]) => ({ ...base, ...members, kid })));
  for (const [kid, members, usable] of variants) {
    const token = jws('ES256', enc.privateKey, { alg: 'ES256', kid }, claims());
    if (usable) assert.equal((await cache.verify(token, options())).key.kid, kid, JSON.stringify(members));
    else await refused(cache, token, 'ERR_JWKS_NO_MATCHING_KEY', JSON.stringify(members));
  }
  // Vectors: rfc7517-ec-use-enc and key-ops-encrypt-only.
  issuer.setKeys([vectorJwk('rfc7517-ec-use-enc', '1'), vectorJwk('key-ops-encrypt-only', 'koe'), es256.jwk]);
  const fresh = createJwksCache();
  await refused(fresh, jws('ES256', es256.privateKey, { alg: 'ES256', kid: '1' }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', 'rfc7517-ec-use-enc');
  await refused(fresh, jws('RS256', rs.privateKey, { alg: 'RS256', kid: 'koe' }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', 'key-ops-encrypt-only');
});

test('A4 use-enc: without a kid, an encryption key beside the signing key (Keycloak) is not a candidate', async () => {
  const encRsa = { ...withoutKid(rsaAny.jwk), use: 'enc', alg: 'RSA-OAEP' };
  for (const keys of [[encRsa, withoutKid(rs.jwk)], [withoutKid(rs.jwk), encRsa]]) {
    issuer.setKeys(keys);
    const cache = createJwksCache();
    const verified = await cache.verify(jws('RS256', rs.privateKey, { alg: 'RS256' }, claims()), options());
    assert.deepEqual(verified.key, withoutKid(rs.jwk), 'the signing key, whatever the order');
    // Signed by the encryption key's private half: the signing key is the one tried, and refuses it.
    await refused(cache, jws('RS256', rsaAny.privateKey, { alg: 'RS256' }, claims()), 'ERR_JWS_SIGNATURE_INVALID', 'signed by the enc key');
  }
});

// ---------------------------------------------------------------------------------------------
// B. Where the key comes from
// ---------------------------------------------------------------------------------------------

test('B1 embedded-jwk: a token carrying the attacker key in its jwk header is checked with the JWKS key only', async () => {
  const cache = createJwksCache();
  const attackerJwk = withoutKid(ATTACKER_JWK);
  const forged = (header) => jws('ES256', ATTACKER_KEY, { alg: 'ES256', ...header }, claims({ sub: 'admin' }));
  // embedded-jwk-with-trusted-kid: the trusted kid, the attacker's key embedded.
  await refused(cache, forged({ kid: 'es', jwk: attackerJwk }), 'ERR_JWS_SIGNATURE_INVALID', 'trusted kid + embedded jwk');
  // embedded-jwk-attacker-key: no kid, the embedded key's own kid, or a kid only the embedded key has.
  await refused(cache, forged({ jwk: attackerJwk }), 'ERR_JWS_SIGNATURE_INVALID', 'no kid + embedded jwk (the one ES256 key of the set is tried)');
  await refused(cache, forged({ kid: 'attacker', jwk: ATTACKER_JWK }), 'ERR_JWKS_NO_MATCHING_KEY', 'kid of the embedded jwk');
  // The embedded key never reaches the cache.
  assert.equal(await cache.getKey(issuer.jwksUri, 'attacker'), null);
  await refused(cache, forged({ kid: 'attacker' }), 'ERR_JWKS_NO_MATCHING_KEY', 'the attacker kid, later, without jwk');
  // A genuine token with an attacker jwk in its header verifies with the JWKS key, not the embedded one.
  const genuine = tokenBy(es256, {}, { jwk: attackerJwk });
  assert.deepEqual((await cache.verify(genuine, options())).key, es256.jwk);
});

test('B1 embedded-jwk: x5c (an attacker self-signed certificate), x5t and x5t#S256 headers are never trusted', async () => {
  const cache = createJwksCache();
  const der = Buffer.from(ATTACKER_CERT, 'base64');
  // Precondition: the certificate does hold the key that signs the forged tokens.
  const { X509Certificate } = await import('node:crypto');
  assert.ok(new X509Certificate(der).publicKey.equals(createPublicKey(ATTACKER_KEY)));
  const x5 = {
    x5c: [ATTACKER_CERT],
    x5t: b64url(createHash('sha1').update(der).digest()),
    'x5t#S256': b64url(createHash('sha256').update(der).digest()),
  };
  const forged = (header) => jws('ES256', ATTACKER_KEY, { alg: 'ES256', ...header }, claims({ sub: 'admin' }));
  await refused(cache, forged({ kid: 'es', ...x5 }), 'ERR_JWS_SIGNATURE_INVALID', 'x5c-attacker-self-signed, trusted kid');
  await refused(cache, forged({ ...x5 }), 'ERR_JWS_SIGNATURE_INVALID', 'x5c-attacker-self-signed, no kid');
  await refused(cache, forged({ kid: 'attacker', ...x5 }), 'ERR_JWKS_NO_MATCHING_KEY', 'x5c-attacker-self-signed, attacker kid');
  await refused(cache, forged({ kid: 'es', x5c: [ATTACKER_CERT], jwk: withoutKid(ATTACKER_JWK) }), 'ERR_JWS_SIGNATURE_INVALID', 'x5c and jwk');
  await refusedWith(cache.verifyJws(forged({ kid: 'es', ...x5 }), { jwksUri: issuer.jwksUri }), 'ERR_JWS_SIGNATURE_INVALID', 'verifyJws x5c');
});

test('B2 jku-x5u: jku and x5u header URLs are never dereferenced: the second server gets zero requests', async () => {
  const { cache, urls } = recordingCache();
  const attackerKid = { ...ATTACKER_JWK, kid: 'es' };
  attacker.setKeys([attackerKid]);
  const urlsInTokens = {
    jku: [attacker.jwksUri, `${attacker.origin}/internal/jwks`, 'http://169.254.169.254/latest/meta-data/iam/security-credentials/', 'http://10.0.0.1/jwks.json', 'file:///etc/passwd'],
    x5u: [`${attacker.origin}/cert.pem`, 'http://169.254.169.254/latest/meta-data/'],
  };
  for (const [member, targets] of Object.entries(urlsInTokens)) {
    for (const target of targets) {
      const forged = (kid) => jws('ES256', ATTACKER_KEY, { alg: 'ES256', ...(kid ? { kid } : {}), [member]: target }, claims({ sub: 'admin' }));
      await refused(cache, forged('es'), 'ERR_JWS_SIGNATURE_INVALID', `${member} ${target}, trusted kid`);
      await refused(cache, forged('attacker'), 'ERR_JWKS_NO_MATCHING_KEY', `${member} ${target}, attacker kid`);
      await refused(cache, forged(undefined), 'ERR_JWS_SIGNATURE_INVALID', `${member} ${target}, no kid`);
      await refusedWith(cache.verifyJws(forged('es'), { jwksUri: issuer.jwksUri }), 'ERR_JWS_SIGNATURE_INVALID', `verifyJws ${member}`);
      // A genuine token naming the same URL verifies with the configured set, still without going there.
      assert.equal((await cache.verify(tokenBy(es256, { jti: target }, { [member]: target }), options())).key.kid, 'es');
    }
  }
  for (const path of [JWKS_PATH, '/internal/jwks', '/cert.pem']) assert.equal(attacker.requestsTo(path), 0, path);
  assert.ok(urls.length >= 1 && urls.every((url) => url === issuer.jwksUri), `only the configured URL was fetched: ${[...new Set(urls)]}`);
});

test('B3 iss-ssrf: verify fetches nothing but the configured jwksUri, whatever iss the token names', async () => {
  const { cache, urls } = recordingCache();
  const issuers = [attacker.origin, `${attacker.origin}/`, 'http://169.254.169.254', 'https://evil.example', ISS];
  for (const iss of issuers) {
    const forged = jws('ES256', ATTACKER_KEY, { alg: 'ES256', kid: 'attacker' }, claims({ iss }));
    // An iss the caller does not accept is refused before the key is looked up (B3, below).
    await refused(cache, forged, iss === ISS ? 'ERR_JWKS_NO_MATCHING_KEY' : 'ERR_JWT_CLAIM_INVALID', `forged, iss ${iss}`, { issuer: ISS });
    await refused(cache, forged, 'ERR_JWKS_NO_MATCHING_KEY', `forged, iss ${iss}, issuer option = that iss`, { issuer: iss });
    const genuine = tokenBy(es256, { iss, jti: `j-${iss}` });
    if (iss === ISS) assert.equal((await cache.verify(genuine, options({ issuer: ISS }))).payload.iss, ISS);
    else await refused(cache, genuine, 'ERR_JWT_CLAIM_INVALID', `genuine, iss ${iss}`, { issuer: ISS });
  }
  for (const path of [JWKS_PATH, '/.well-known/openid-configuration', '/.well-known/jwks.json']) assert.equal(attacker.requestsTo(path), 0, path);
  assert.ok(urls.every((url) => url === issuer.jwksUri), `only the configured URL was fetched: ${[...new Set(urls)]}`);
});

test(
  'B3 iss-ssrf: a token whose iss is not an accepted issuer is refused before any fetch',
  async () => {
    const cache = createJwksCache();
    await refused(cache, tokenBy(es256, { iss: 'https://evil.example' }), 'ERR_JWT_CLAIM_INVALID', 'unknown iss', { issuer: ISS });
    assert.equal(issuer.jwksRequests, 0, 'no fetch for a token of an issuer the caller does not accept');
  },
);

test(
  'B4 http-jwks: a plain-http jwksUri is refused by default, before any request',
  async () => {
    let requests = 0;
    const fetchStub = async () => {
      requests += 1;
      return new Response(JSON.stringify({ keys: [es256.jwk] }), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const cache = createJwksCache({ fetch: fetchStub });
    const token = tokenBy(es256);
    // Control: the same set over https verifies.
    assert.equal((await cache.verify(token, options({ jwksUri: 'https://issuer.example/.well-known/jwks.json' }))).key.kid, 'es');
    assert.equal(requests, 1);
    await refusedWith(cache.verify(token, options({ jwksUri: 'http://issuer.example/.well-known/jwks.json' })), 'ERR_JWKS_URI_INVALID', 'http jwksUri');
    await refusedWith(cache.getKey('http://issuer.example/.well-known/jwks.json', 'es'), 'ERR_JWKS_URI_INVALID', 'http jwksUri (getKey)');
    assert.equal(requests, 1, 'the http URL was never requested');
  },
);

test(
  'B5 redirects: a 30x from the JWKS endpoint is not followed (the redirect target gets zero requests)',
  async () => {
    attacker.setKeys([{ ...ATTACKER_JWK, kid: 'es' }]);
    const forged = jws('ES256', ATTACKER_KEY, { alg: 'ES256', kid: 'es' }, claims({ sub: 'admin' }));
    for (const status of [301, 302, 303, 307, 308]) {
      issuer.behave('respond', (req, res) => res.writeHead(status, { location: attacker.jwksUri }).end());
      const cache = createJwksCache();
      await assert.rejects(cache.verify(forged, options()), (error) => {
        assert.equal(error.name, 'JwksFetchError', `${status}: ${error.code} ${error.message}`);
        assert.equal(error.code, 'ERR_JWKS_REDIRECT');
        assert.equal(error.status, status);
        return true;
      });
      await assert.rejects(cache.verify(tokenBy(es256), options()), { name: 'JwksFetchError' }, `${status}, genuine token`);
    }
    assert.equal(attacker.jwksRequests, 0, 'the redirect target was never requested');
  },
);

// ---------------------------------------------------------------------------------------------
// C. kid handling and the cache
// ---------------------------------------------------------------------------------------------

test('C1 kid-injection: a token kid is an opaque string matched exactly; hostile kids find no key and reach no other URL', async () => {
  issuer.setKeys([{ ...es256.jwk, kid: 'Key-1' }]);
  const { cache, urls } = recordingCache();
  const signed = (kid) => jws('ES256', es256.privateKey, { alg: 'ES256', kid }, claims());
  const hostile = ['../../dev/null', '/dev/null', "' OR '1'='1", "x' UNION SELECT 'secret' --", '$(rm -rf /)', '`id`', '%2e%2e%2f', '?x=1#y',
    '(uid=*)', 'key-1', 'KEY-1', 'Key-1 ', ' Key-1', 'Key-1\u0000', 'Key\u20111', 'Key-1/../Key-1', 'x'.repeat(1024)];
  for (const kid of hostile) await refused(cache, signed(kid), 'ERR_JWKS_NO_MATCHING_KEY', JSON.stringify(kid.slice(0, 40)));
  assert.ok(urls.every((url) => url === issuer.jwksUri), `only the configured URL: ${[...new Set(urls)]}`);
  assert.equal(issuer.requestsTo(JWKS_PATH), urls.length, 'no other path requested');
  // kid must be a non-empty JSON string of at most 1024 bytes: no coercion (kid-empty, kid-number-instead-of-string).
  for (const [kid, label] of [['', 'empty'], [7, 'number'], [['Key-1'], 'array'], [{ kid: 'Key-1' }, 'object'], [null, 'null'], [true, 'boolean'], ['x'.repeat(1025), '1025 bytes']]) {
    await refused(cache, signed(kid), 'ERR_JWT_MALFORMED', `kid ${label}`);
  }
  // The classic /dev/null attack signs HS256 with an empty key: refused for its algorithm.
  const input = `${segment({ alg: 'HS256', kid: '../../../../../../dev/null' })}.${segment(claims())}`;
  await refused(cache, `${input}.${b64url(createHmac('sha256', '').update(input).digest())}`, 'ERR_JWS_ALG_NOT_ALLOWED', 'kid /dev/null, HS256 with an empty key');
  // Exact equality of decoded JSON strings: an escaped spelling of the same kid is that kid.
  assert.equal((await cache.verify(signed('Key-1'), options())).key.kid, 'Key-1');
  const escaped = jws('ES256', es256.privateKey, '{"alg":"ES256","kid":"Key\\u002d1"}', claims());
  assert.equal((await cache.verify(escaped, options())).key.kid, 'Key-1');
});

test(
  'C2 kid-refetch-flood: unknown kids refetch the JWKS at most once per cooldown window, even on a cold or failing endpoint',
  async () => {
    const cache = createJwksCache({ maxRetries: 0, now: () => NOW * 1000 });
    assert.equal((await cache.verify(tokenBy(es256), options())).key.kid, 'es');
    for (let i = 0; i < 30; i++) {
      const kid = `random-${randomBytes(8).toString('hex')}`;
      await refused(cache, jws('ES256', ATTACKER_KEY, { alg: 'ES256', kid }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', kid);
    }
    assert.ok(issuer.jwksRequests <= 2, `30 random kids: ${issuer.jwksRequests} JWKS requests (at most the first fetch and one refresh)`);
    assert.equal((await cache.verify(tokenBy(es256, { jti: 'after' }), options())).key.kid, 'es', 'real tokens still verify');

    // A cold cache on a failing endpoint: the cooldown holds for failures too.
    issuer.resetCounts();
    issuer.behave('status', 500);
    const cold = createJwksCache({ maxRetries: 0, now: () => NOW * 1000 });
    for (let i = 0; i < 10; i++) {
      await assert.rejects(cold.verify(jws('ES256', ATTACKER_KEY, { alg: 'ES256', kid: `r${i}` }, claims()), options()));
    }
    assert.ok(issuer.jwksRequests <= 1, `10 random kids on a failing endpoint: ${issuer.jwksRequests} JWKS requests`);
  },
);

test('C2 kid-refetch-flood: a failed or garbage refetch for an unknown kid never evicts the cached keys', async () => {
  const cache = createJwksCache({ now: () => NOW * 1000 });
  assert.equal((await cache.verify(tokenBy(es256), options())).key.kid, 'es');
  const unknown = jws('ES256', ATTACKER_KEY, { alg: 'ES256', kid: 'unknown' }, claims());
  for (const [mode, value] of [['status', 500], ['garbage'], ['body', '{"keys":[{"kty":"EC","kid":"x","kid":"y"}]}'], ['body', 'x'.repeat(600 * 1024)]]) {
    issuer.behave(mode, value);
    await assert.rejects(cache.verify(unknown, options()), `refetch answered with ${mode}`);
    const verified = await cache.verify(tokenBy(es256, { jti: `${mode}-${value?.length ?? value}` }), options());
    assert.equal(verified.key.kid, 'es', `after a refetch answered with ${mode}`);
  }
  // After the allowed refresh, an unknown kid is refused.
  issuer.behave('ok');
  await refused(cache, unknown, 'ERR_JWKS_NO_MATCHING_KEY', 'kid-unknown');
});

test('C3 thundering-herd: concurrent verifications on a cold cache, and after expiry, share one JWKS request (and its failure)', async () => {
  let now = NOW * 1000;
  // maxStaleMs: 0: every caller waits on the refresh (stale-while-revalidate: the next test).
  const cache = createJwksCache({ ttlMs: 1000, maxStaleMs: 0, maxRetries: 0, now: () => now });
  issuer.behave('slow', 50);
  const tokens = (round) => Array.from({ length: 300 }, (_, i) => tokenBy(es256, { jti: `${round}-${i}` }));
  let results = await Promise.all(tokens('cold').map((token) => cache.verify(token, options())));
  assert.ok(results.every((r) => r.key.kid === 'es'));
  assert.equal(issuer.jwksRequests, 1);
  now += 1000;
  results = await Promise.all(tokens('expired').map((token) => cache.verify(token, options())));
  assert.ok(results.every((r) => r.key.kid === 'es'));
  assert.equal(issuer.jwksRequests, 2);
  now += 1000;
  issuer.behave('status', 503);
  const failed = await Promise.allSettled(tokens('failing').map((token) => cache.verify(token, options())));
  assert.equal(issuer.jwksRequests, 3);
  assert.ok(failed.every((r) => r.status === 'rejected' && r.reason.code === 'ERR_JWKS_HTTP_STATUS' && r.reason.status === 503));
});

test(
  'C3 thundering-herd: stale-while-revalidate: an expired set answers while one refresh runs, and for a bounded time when the refresh fails',
  async () => {
    let now = NOW * 1000;
    const cache = createJwksCache({ ttlMs: 1000, now: () => now });
    assert.equal((await cache.verify(tokenBy(es256), options())).key.kid, 'es');
    now += 1500;
    issuer.behave('slow', 500);
    const started = performance.now();
    assert.equal((await cache.verify(tokenBy(es256, { jti: 'stale-1' }), options())).key.kid, 'es');
    assert.ok(performance.now() - started < 250, 'answered from the stale set, not after the 500 ms refresh');
    now += 1500;
    issuer.behave('status', 503);
    assert.equal((await cache.verify(tokenBy(es256, { jti: 'stale-2' }), options())).key.kid, 'es', 'the previous set still serves while the endpoint fails');
  },
);

test('C4 duplicate-kid: a kid shared by different keys is ambiguous for verify, whichever key signed it and in either order', async () => {
  const other = { ...ATTACKER_JWK, kid: 'same' };
  const ours = { ...es256.jwk, kid: 'same' };
  for (const keys of [[ours, other], [other, ours]]) {
    issuer.setKeys(keys);
    const cache = createJwksCache();
    await refused(cache, jws('ES256', es256.privateKey, { alg: 'ES256', kid: 'same' }, claims()), 'ERR_JWKS_AMBIGUOUS_KID', 'signed by the first key');
    await refused(cache, jws('ES256', ATTACKER_KEY, { alg: 'ES256', kid: 'same' }, claims()), 'ERR_JWKS_AMBIGUOUS_KID', 'signed by the second key');
  }
  // Different key types under one kid (the vectors' jwks-duplicate-kid-different-keys has two RSA keys).
  issuer.setKeys([{ ...rs.jwk, kid: 'dup' }, { ...rsaAny.jwk, kid: 'dup' }, es256.jwk]);
  const cache = createJwksCache();
  await refused(cache, jws('RS256', rs.privateKey, { alg: 'RS256', kid: 'dup' }, claims()), 'ERR_JWKS_AMBIGUOUS_KID', 'two RSA keys');
  assert.equal((await cache.verify(tokenBy(es256), options())).key.kid, 'es', 'the other kids of the set verify');
  // The very same key listed twice is not ambiguous.
  issuer.setKeys([es256.jwk, { ...es256.jwk }]);
  assert.equal((await createJwksCache().verify(tokenBy(es256), options())).key.kid, 'es');
});

test('C4 duplicate-kid: without a kid, only the keys eligible for the alg count, and several eligible keys refuse the token', async () => {
  const kidless = (alg, key) => jws(alg, key, { alg }, claims());
  // rfc7520-4.8-sig1-rs256-as-compact: no kid, one RSA key (beside keys of other types) -> accept.
  issuer.setKeys([withoutKid(rs.jwk), withoutKid(es256.jwk), withoutKid(ed.jwk)]);
  let cache = createJwksCache();
  assert.deepEqual((await cache.verify(kidless('RS256', rs.privateKey), options())).key, withoutKid(rs.jwk));
  assert.deepEqual((await cache.verify(kidless('ES256', es256.privateKey), options())).key, withoutKid(es256.jwk));
  assert.deepEqual((await cache.verify(kidless('EdDSA', ed.privateKey), options())).key, withoutKid(ed.jwk));
  // Keys with kids count too, when the token names none.
  issuer.setKeys([rs.jwk, es256.jwk]);
  cache = createJwksCache();
  assert.equal((await cache.verify(kidless('ES256', es256.privateKey), options())).key.kid, 'es');
  // Two keys that can verify ES256: no guessing by member order, whichever signed.
  for (const keys of [[es256.jwk, ATTACKER_JWK], [withoutKid(ATTACKER_JWK), withoutKid(es256.jwk)]]) {
    issuer.setKeys(keys);
    cache = createJwksCache();
    await refused(cache, kidless('ES256', es256.privateKey), 'ERR_JWKS_NO_MATCHING_KEY', 'two ES256 keys, signed by the first');
    await refused(cache, kidless('ES256', ATTACKER_KEY), 'ERR_JWKS_NO_MATCHING_KEY', 'two ES256 keys, signed by the second');
  }
  // Two RSA keys, one restricted to RS256, one to PS256: each alg has one candidate.
  issuer.setKeys([withoutKid(rs.jwk), withoutKid(ps.jwk)]);
  cache = createJwksCache();
  assert.deepEqual((await cache.verify(kidless('RS256', rs.privateKey), options())).key, withoutKid(rs.jwk));
  assert.deepEqual((await cache.verify(kidless('PS256', ps.privateKey), options())).key, withoutKid(ps.jwk));
  // No key of the set can verify the alg.
  await refused(cache, kidless('EdDSA', ed.privateKey), 'ERR_JWKS_NO_MATCHING_KEY', 'no OKP key');
});

// ---------------------------------------------------------------------------------------------
// D. Cryptographic edge cases
// ---------------------------------------------------------------------------------------------

const EC_SIGNERS = () => ({ ES256: es256, ES384: es384, ES512: es512 });

test('D1 ecdsa-psychic: r = s = 0, r = s = n, r = 0, s = 0 and r, s >= n never verify (ES256, ES384, ES512)', async () => {
  const cache = createJwksCache();
  for (const [alg, signer] of Object.entries(EC_SIGNERS())) {
    const size = COORDINATE[alg];
    const n = ORDER[alg];
    const good = tokenBy(signer);
    const sig = signatureOf(good);
    const [r, s] = [sig.subarray(0, size), sig.subarray(size)];
    const cases = {
      'ecdsa-psychic-r0-s0': Buffer.alloc(2 * size),
      'ecdsa-r-eq-s-eq-n': Buffer.concat([toBytes(n, size), toBytes(n, size)]),
      'ecdsa-r0-valid-s': Buffer.concat([Buffer.alloc(size), s]),
      'valid-r-s0': Buffer.concat([r, Buffer.alloc(size)]),
      'r-eq-n-valid-s': Buffer.concat([toBytes(n, size), s]),
      'valid-r-s-eq-n': Buffer.concat([r, toBytes(n, size)]),
      'r1-s1': Buffer.concat([toBytes(1n, size), toBytes(1n, size)]),
      'r-s-eq-n-plus-1': Buffer.concat([toBytes(n + 1n, size), toBytes(n + 1n, size)]),
      'filler bytes': Buffer.alloc(2 * size, alg === 'ES512' ? 0x01 : 0xff),
    };
    for (const [label, bytes] of Object.entries(cases)) {
      assert.equal(bytes.length, 2 * size, label);
      await refused(cache, withSignature(good, bytes), 'ERR_JWS_SIGNATURE_INVALID', `${alg} ${label}`);
      await refusedWith(cache.verifyJws(withSignature(good, bytes), { jwksUri: issuer.jwksUri }), 'ERR_JWS_SIGNATURE_INVALID', `verifyJws ${alg} ${label}`);
    }
    assert.equal((await cache.verify(good, options())).key.kid, signer.kid, `${alg} control`);
  }
});

test('D2 ecdsa-encoding: DER-encoded, 65-byte, 63-byte, padded and r/s-swapped ECDSA signatures are refused', async () => {
  const cache = createJwksCache();
  for (const [alg, signer] of Object.entries(EC_SIGNERS())) {
    const size = COORDINATE[alg];
    const good = tokenBy(signer);
    const input = good.slice(0, good.lastIndexOf('.'));
    const sig = signatureOf(good);
    const der = sign(SIGNING[alg][0], Buffer.from(input), { key: signer.privateKey, dsaEncoding: 'der' });
    // Precondition: the DER signature is valid under DER decoding (a DER-tolerant verifier accepts it).
    assert.ok(nodeVerify(SIGNING[alg][0], Buffer.from(input), { key: signer.publicKey, dsaEncoding: 'der' }, der), `${alg} DER precondition`);
    const cases = {
      'ecdsa-der-encoded': der,
      'ecdsa-65-bytes-leading-zero': Buffer.concat([Buffer.from([0]), sig]),
      'trailing-zero-byte': Buffer.concat([sig, Buffer.from([0])]),
      'first-byte-dropped': sig.subarray(1),
      'last-byte-dropped': sig.subarray(0, -1),
      'ecdsa-r-s-swapped': Buffer.concat([sig.subarray(size), sig.subarray(0, size)]),
      'r-and-s-zero-padded': Buffer.concat([Buffer.from([0]), sig.subarray(0, size), Buffer.from([0]), sig.subarray(size)]),
      'doubled': Buffer.concat([sig, sig]),
    };
    for (const [label, bytes] of Object.entries(cases)) {
      await refused(cache, withSignature(good, bytes), 'ERR_JWS_SIGNATURE_INVALID', `${alg} ${label}`);
    }
    assert.equal((await cache.verify(good, options())).key.kid, signer.kid, `${alg} control`);
  }
});

test('D3 signature-malleability: Ed25519 S + L (eddsa-noncanonical-s-plus-l) is refused', async () => {
  const cache = createJwksCache();
  const good = tokenBy(ed);
  const sig = signatureOf(good);
  const s = toBigInt(Buffer.from(sig.subarray(32)).reverse());
  assert.ok(s < ED25519_L);
  const sPlusL = toBytes(s + ED25519_L, 32).reverse();
  const malleated = withSignature(good, Buffer.concat([sig.subarray(0, 32), sPlusL]));
  await refused(cache, malleated, 'ERR_JWS_SIGNATURE_INVALID', 'S + L');
  await refusedWith(cache.verifyJws(malleated, { jwksUri: issuer.jwksUri }), 'ERR_JWS_SIGNATURE_INVALID', 'verifyJws S + L');
  // S with its top bits set (S >= 2^253, far above L).
  const high = Buffer.from(sig);
  high[63] |= 0xe0;
  await refused(cache, withSignature(good, high), 'ERR_JWS_SIGNATURE_INVALID', 'S with the top bits set');
  assert.equal((await cache.verify(good, options())).key.kid, 'ed', 'control');
});

test('D3 signature-malleability: ECDSA high-S (r, n - s) is accepted (ecdsa-high-s-variant): JWS has no low-S rule', async () => {
  const cache = createJwksCache();
  for (const [alg, signer] of Object.entries(EC_SIGNERS())) {
    const size = COORDINATE[alg];
    const good = tokenBy(signer, { jti: `high-s-${alg}` });
    const sig = signatureOf(good);
    const flipped = Buffer.concat([sig.subarray(0, size), toBytes(ORDER[alg] - toBigInt(sig.subarray(size)), size)]);
    const variant = withSignature(good, flipped);
    assert.notEqual(variant, good);
    const verified = await cache.verify(variant, options());
    assert.equal(verified.key.kid, signer.kid, `${alg} (r, n - s)`);
    assert.equal((await cache.verify(good, options())).key.kid, signer.kid, `${alg} (r, s)`);
  }
});

test('D3 signature-malleability: non-zero unused bits in the last base64url character are refused (signature, header, payload), before any fetch', async () => {
  const cache = createJwksCache();
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  /** The segment with the lowest unused bit of its last character set (same decoded bytes for a lax decoder). */
  const dirty = (text) => {
    const unused = { 2: 4, 3: 2 }[text.length % 4];
    assert.ok(unused, `segment length ${text.length} has unused bits`);
    return text.slice(0, -1) + ALPHABET[ALPHABET.indexOf(text.at(-1)) | 1];
  };
  const tokens = {
    ES256: tokenBy(es256), // 64-byte signature: 86 characters, 4 unused bits
    RS256: tokenBy(rs), // 256-byte signature: 342 characters, 4 unused bits
    EdDSA: tokenBy(ed),
  };
  for (const [alg, good] of Object.entries(tokens)) {
    const [h, p, s] = good.split('.');
    assert.equal(Buffer.from(dirty(s), 'base64url').equals(Buffer.from(s, 'base64url')), true, 'a lax decoder reads the same bytes');
    await refused(cache, `${h}.${p}.${dirty(s)}`, 'ERR_JWT_MALFORMED', `${alg} encoding-noncanonical-signature-trailing-bits`);
  }
  // Header and payload segments whose length leaves unused bits (texts of 3k+1 or 3k+2 bytes).
  for (const pad of ['', 'x', 'xx']) {
    const header = JSON.stringify({ alg: 'ES256', kid: 'es', pad });
    const payload = JSON.stringify(claims({ pad }));
    const good = jws('ES256', es256.privateKey, header, payload);
    const [h, p, s] = good.split('.');
    if (header.length % 3) await refused(cache, `${dirty(h)}.${p}.${s}`, 'ERR_JWT_MALFORMED', `header of ${header.length} bytes`);
    if (payload.length % 3) await refused(cache, `${h}.${dirty(p)}.${s}`, 'ERR_JWT_MALFORMED', `payload of ${payload.length} bytes`);
  }
  assert.equal(issuer.jwksRequests, 0);
  assert.equal((await cache.verify(tokens.ES256, options())).key.kid, 'es', 'control');
});

test('D4 weak-rsa: RSA keys under 2048 bits, e = 1, even e, even n or a padded n find no key; the rest of the set still verifies', async () => {
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const weakJwk = { ...weak.publicKey.export({ format: 'jwk' }), kid: 'rsa-1024-bit-key', alg: 'RS256' };
  const e3 = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
  const e3Jwk = { ...e3.publicKey.export({ format: 'jwk' }), kid: 'rsa-e-3', alg: 'RS256' };
  assert.equal(e3Jwk.e, 'Aw');
  const vectors = ['rsa-1024', 'rsa-e-1', 'rsa-e-2-even', 'rsa-n-even', 'rsa-n-leading-zero-octet'];
  issuer.setKeys([weakJwk, e3Jwk, ...vectors.map((name) => vectorJwk(name)), rs.jwk]);
  const cache = createJwksCache();

  // A valid signature by a real 1024-bit key: refused for the key, not the signature.
  await refused(cache, jws('RS256', weak.privateKey, { alg: 'RS256', kid: 'rsa-1024-bit-key' }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', 'rsa-1024-bit-key');
  // e = 1: the padded digest is its own signature. node:crypto accepts this forgery; the cache must not.
  const e1 = vectorJwk('rsa-e-1');
  const input = `${segment({ alg: 'RS256', kid: 'rsa-e-1' })}.${segment(claims({ sub: 'admin' }))}`;
  const digestInfo = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), createHash('sha256').update(input).digest()]);
  const modulusBytes = Buffer.from(e1.n, 'base64url').length;
  const forgery = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(modulusBytes - digestInfo.length - 3, 0xff), Buffer.from([0]), digestInfo]);
  const e1Key = createPublicKey({ key: { kty: 'RSA', n: e1.n, e: e1.e }, format: 'jwk' });
  assert.ok(nodeVerify('sha256', Buffer.from(input), e1Key, forgery), 'precondition: node accepts the e = 1 forgery');
  await refused(cache, `${input}.${b64url(forgery)}`, 'ERR_JWKS_NO_MATCHING_KEY', 'rsa-e-1 forgery');
  for (const name of vectors) {
    for (const alg of ['RS256', 'PS256']) {
      await refused(cache, jws(alg, rs.privateKey, { alg, kid: name }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', `${name} ${alg}`);
    }
  }
  // e = 3 is legal (rsa-e-3, usable).
  assert.equal((await cache.verify(jws('RS256', e3.privateKey, { alg: 'RS256', kid: 'rsa-e-3' }, claims()), options())).key.kid, 'rsa-e-3');
  assert.equal((await cache.verify(tokenBy(rs), options())).key.kid, 'rs', 'the rest of the set verifies');
  // Without a kid, a weak key is no candidate either.
  issuer.setKeys([withoutKid(weakJwk)]);
  await refused(createJwksCache(), jws('RS256', weak.privateKey, { alg: 'RS256' }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', '1024-bit key, no kid');
});

test('D5 rsa-dos: a 32768-bit (or 16385-bit) modulus and huge exponents are refused at parse time; the rest of the set still verifies', async () => {
  const n16385 = randomBytes(2049);
  n16385[0] = 0x01;
  n16385[2048] |= 1;
  const e33 = b64url(toBytes(2n ** 32n + 1n, 5));
  const keys = [
    vectorJwk('rsa-n-32768-bit'),
    vectorJwk('rsa-e-huge-4097-bit'),
    vectorJwk('rsa-e-65-bit'),
    { kty: 'RSA', kid: 'rsa-n-16385-bit', n: b64url(n16385), e: 'AQAB' },
    { kty: 'RSA', kid: 'rsa-e-2^32+1', n: rs.jwk.n, e: e33 },
  ];
  issuer.setKeys([...keys, rs.jwk]);
  const cache = createJwksCache();
  const started = performance.now();
  for (const { kid, n } of keys) {
    const signature = randomBytes(Buffer.from(n, 'base64url').length);
    for (const alg of ['RS256', 'PS512']) {
      const token = withSignature(jws(alg, rs.privateKey, { alg, kid }, claims()), signature);
      await refused(cache, token, 'ERR_JWKS_NO_MATCHING_KEY', `${kid} ${alg}`);
    }
  }
  assert.ok(performance.now() - started < 2000, `refused without the math (${Math.round(performance.now() - started)} ms)`);
  assert.equal((await cache.verify(tokenBy(rs), options())).key.kid, 'rs', 'the rest of the set verifies');
});

test('D6 jwks-parse: malformed keys (off-curve, short or wrong-curve coordinates, (0,0), short OKP, unknown curve or kty, x5c mismatch) are dropped, the rest verifies', async () => {
  const cases = {
    'ec-point-not-on-curve': 'ES256',
    'ec-x-not-full-length': 'ES256',
    'ec-crv-p384-with-p256-coords': 'ES384',
    'ec-point-at-infinity-zeros': 'ES256',
    'okp-ed25519-x-31-bytes': 'EdDSA',
    'ec-secp256k1': 'ES256',
    'kty-unknown': 'ES256',
    'kty-missing': 'RS256',
    'x5c-does-not-match-n-e': 'RS256',
    'rsa-missing-e': 'RS256',
  };
  const lengths = { ES256: 64, ES384: 96, ES512: 132, EdDSA: 64, RS256: 256 };
  issuer.setKeys([...Object.keys(cases).map((name) => vectorJwk(name)), ...defaultKeys]);
  const cache = createJwksCache();
  for (const [name, alg] of Object.entries(cases)) {
    const token = `${segment({ alg, kid: name })}.${segment(claims())}.${b64url(randomBytes(lengths[alg]))}`;
    await refused(cache, token, 'ERR_JWKS_NO_MATCHING_KEY', name);
  }
  // ES256K (secp256k1) is no algorithm here at all.
  await refused(cache, `${segment({ alg: 'ES256K', kid: 'ec-secp256k1' })}.${segment(claims())}.${b64url(randomBytes(64))}`, 'ERR_JWS_ALG_NOT_ALLOWED', 'ES256K');
  for (const signer of [rs, ps, es256, es384, es512, ed]) {
    assert.equal((await cache.verify(tokenBy(signer), options())).key.kid, signer.kid, `${signer.kid} still verifies`);
  }
  // A body that is not a JWK Set gives no key, not an exception of another kind.
  issuer.behave('body', '{"keys":{}}');
  await refused(createJwksCache(), tokenBy(es256), 'ERR_JWKS_NO_MATCHING_KEY', 'keys not an array');
});

// ---------------------------------------------------------------------------------------------
// E. Header semantics
// ---------------------------------------------------------------------------------------------

test('E1 crit: any crit (unknown extension, empty, registered name, absent member, not an array of names) refuses a validly signed token, before any fetch', async () => {
  const cache = createJwksCache();
  const cases = [
    [{ crit: ['exp'], exp: NOW + 600 }, 'ERR_JWS_HEADER_UNSUPPORTED', 'crit-unknown-extension'],
    [{ crit: ['http://example.invalid/mfa'], 'http://example.invalid/mfa': true }, 'ERR_JWS_HEADER_UNSUPPORTED', 'URI-named extension'],
    [{ crit: ['exp', 'exp'], exp: NOW + 600 }, 'ERR_JWS_HEADER_UNSUPPORTED', 'a name twice'],
    [{ crit: [] }, 'ERR_JWT_MALFORMED', 'crit-empty-list'],
    [{ crit: ['alg'] }, 'ERR_JWS_HEADER_UNSUPPORTED', 'crit-lists-registered-param'],
    [{ crit: ['kid'] }, 'ERR_JWS_HEADER_UNSUPPORTED', 'crit lists kid'],
    [{ crit: ['foo'] }, 'ERR_JWS_HEADER_UNSUPPORTED', 'crit-names-absent-param'],
    [{ crit: 'exp', exp: NOW + 600 }, 'ERR_JWT_MALFORMED', 'crit-not-an-array'],
    [{ crit: { exp: true } }, 'ERR_JWT_MALFORMED', 'crit an object'],
    [{ crit: [1] }, 'ERR_JWT_MALFORMED', 'crit of numbers'],
    [{ crit: null }, 'ERR_JWT_MALFORMED', 'crit null'],
    [{ crit: [['exp']], exp: NOW + 600 }, 'ERR_JWT_MALFORMED', 'crit of arrays'],
  ];
  for (const [members, code, label] of cases) {
    const token = tokenBy(es256, {}, members);
    await refused(cache, token, code, label);
    await refusedWith(cache.verifyJws(token, { jwksUri: issuer.jwksUri }), code, `verifyJws ${label}`);
  }
  assert.equal(issuer.jwksRequests, 0);
});

test('E2 b64-false: a header with b64 (false or true, with or without crit) is refused, also where a lax verifier would check the same signing input', async () => {
  const cache = createJwksCache();
  const variants = [
    [{ b64: false, crit: ['b64'] }, 'b64-false-with-crit'],
    [{ b64: false }, 'b64-false-without-crit'],
    [{ b64: true, crit: ['b64'] }, 'b64-true-with-crit'],
    [{ b64: true }, 'b64-true-without-crit'],
    [{ b64: 'false' }, 'b64 a string'],
  ];
  for (const [members, label] of variants) {
    // A payload whose raw text is also valid base64url: the signature is right under both readings.
    const header = { alg: 'ES256', kid: 'es', ...members };
    const detachedish = `${segment(header)}.abcd`;
    const signature = sign('sha256', Buffer.from(detachedish), { key: es256.privateKey, dsaEncoding: 'ieee-p1363' });
    await refusedWith(cache.verifyJws(`${detachedish}.${b64url(signature)}`, { jwksUri: issuer.jwksUri }), 'ERR_JWS_HEADER_UNSUPPORTED', `verifyJws ${label}`);
    await refused(cache, jws('ES256', es256.privateKey, header, claims()), 'ERR_JWS_HEADER_UNSUPPORTED', label);
  }
  assert.equal(issuer.jwksRequests, 0);
  // Control: the same JWS without b64 verifies.
  const plain = `${segment({ alg: 'ES256', kid: 'es' })}.abcd`;
  const signature = sign('sha256', Buffer.from(plain), { key: es256.privateKey, dsaEncoding: 'ieee-p1363' });
  assert.deepEqual(Buffer.from((await cache.verifyJws(`${plain}.${b64url(signature)}`, { jwksUri: issuer.jwksUri })).payload), Buffer.from('abcd', 'base64url'));
});

test('E3 duplicate-json-keys: a duplicate alg or kid in the header is refused, also when only visible after escape decoding', async () => {
  const cache = createJwksCache();
  const headers = [
    ['{"alg":"none","alg":"ES256","kid":"es"}', 'duplicate-header-alg (none first)'],
    ['{"alg":"ES256","kid":"es","alg":"none"}', 'duplicate-header-alg (none last)'],
    ['{"alg":"ES256","alg":"ES256","kid":"es"}', 'the same alg twice'],
    ['{"alg":"ES256","kid":"attacker","kid":"es"}', 'duplicate-header-kid'],
    ['{"alg":"ES256","kid":"es","kid":"attacker"}', 'duplicate-header-kid (real first)'],
    ['{"\\u0061lg":"none","alg":"ES256","kid":"es"}', '"\\u0061lg" and "alg"'],
    ['{"alg":"ES256","\\u0061\\u006c\\u0067":"RS256","kid":"es"}', 'alg and a fully escaped alg'],
    ['{"alg":"ES256","kid":"es","\\u006bid":"x"}', 'kid and "\\u006bid"'],
    ['{"alg":"ES256","kid":"es","typ":"JWT","ty\\u0070":"at+jwt"}', 'typ twice'],
    ['{"alg":"ES256","kid":"es","jwk":{"kty":"EC","kty":"RSA"}}', 'a duplicate inside a nested object'],
  ];
  for (const [header, label] of headers) {
    const token = jws('ES256', es256.privateKey, header, claims());
    await refused(cache, token, 'ERR_JWT_MALFORMED', label);
    await refusedWith(cache.verifyJws(token, { jwksUri: issuer.jwksUri }), 'ERR_JWT_MALFORMED', `verifyJws ${label}`);
  }
  assert.equal(issuer.jwksRequests, 0);
  // Control: an escaped member name alone is just that name.
  assert.equal((await cache.verify(jws('ES256', es256.privateKey, '{"\\u0061lg":"ES256","kid":"es"}', claims()), options())).protectedHeader.alg, 'ES256');
});

test('E3 duplicate-json-keys: duplicate claims are refused, including escaped names and nested objects', async () => {
  const cache = createJwksCache();
  const base = `"iss":"${ISS}","aud":"${AUD}","iat":${NOW - 10},"exp":${NOW + 600}`;
  const payloads = [
    [`{"sub":"alice","sub":"admin",${base}}`, 'duplicate-claim-sub'],
    [`{"sub":"alice","s\\u0075b":"admin",${base}}`, 'sub and "s\\u0075b"'],
    [`{"sub":"alice",${base},"exp":${NOW + 999999}}`, 'exp twice'],
    [`{"sub":"alice",${base},"\\u0065xp":${NOW + 999999}}`, 'exp and "\\u0065xp"'],
    [`{"sub":"alice",${base},"aud":"other"}`, 'aud twice'],
    [`{"sub":"alice",${base},"iss":"https://evil.example"}`, 'iss twice'],
    [`{"sub":"alice",${base},"realm_access":{"roles":["user"],"roles":["admin"]}}`, 'a duplicate inside a nested claim'],
  ];
  for (const [payload, label] of payloads) await refused(cache, jws('ES256', es256.privateKey, { alg: 'ES256', kid: 'es' }, payload), 'ERR_JWT_MALFORMED', label);
  assert.equal(issuer.jwksRequests, 0);
});

test('E3 duplicate-json-keys: a JWKS with duplicate members fails verification, whichever member a parser would keep', async () => {
  const doubled = `{"keys":[${JSON.stringify(es256.jwk).slice(0, -1)},"x":${JSON.stringify(ATTACKER_JWK.x)},"y":${JSON.stringify(ATTACKER_JWK.y)}}]}`;
  issuer.behave('body', doubled);
  for (const key of [es256.privateKey, ATTACKER_KEY]) {
    await refused(createJwksCache(), jws('ES256', key, { alg: 'ES256', kid: 'es' }, claims()), 'ERR_JWKS_INVALID_JSON', 'duplicate x/y');
  }
  issuer.behave('body', `{"keys":[${JSON.stringify(es256.jwk)}],"keys":[${JSON.stringify({ ...ATTACKER_JWK, kid: 'es' })}]}`);
  await refused(createJwksCache(), jws('ES256', ATTACKER_KEY, { alg: 'ES256', kid: 'es' }, claims()), 'ERR_JWKS_INVALID_JSON', 'jwks-duplicate-keys-member');
});

// ---------------------------------------------------------------------------------------------
// F. Serialization and parsing
// ---------------------------------------------------------------------------------------------

test('F1 compact-serialization: whitespace, padding, the standard alphabet, extra segments and look-alike characters are refused before any fetch', async () => {
  const cache = createJwksCache();
  // A token with both '-' and '_' somewhere, so that the standard alphabet differs from it.
  let good;
  for (let i = 0; !good || !/-/.test(good) || !/_/.test(good); i++) good = tokenBy(es256, { jti: `f1-${i}` });
  const [h, p, s] = good.split('.');
  const variants = {
    'leading space': ` ${good}`,
    'trailing space': `${good} `,
    'trailing newline': `${good}\n`,
    'trailing CRLF': `${good}\r\n`,
    'leading tab': `\t${good}`,
    'Bearer prefix': `Bearer ${good}`,
    'space before a dot': `${h} .${p}.${s}`,
    'newline inside the payload': `${h}.${p.slice(0, 10)}\n${p.slice(10)}.${s}`,
    'padding on the header': `${h}${'='.repeat((4 - (h.length % 4)) % 4 || 4)}.${p}.${s}`,
    'padding on the signature': `${h}.${p}.${s}==`,
    'standard alphabet': good.replace(/-/g, '+').replace(/_/g, '/'),
    'four segments (trailing dot)': `${good}.`,
    'four segments': `${good}.${s}`,
    'five segments (JWE-shaped)': `${h}.${b64url(randomBytes(32))}.${b64url(randomBytes(12))}.${p}.${b64url(randomBytes(16))}`,
    'two segments': `${h}.${p}`,
    'one segment': h,
    'empty string': '',
    'only dots': '..',
    'zero-width space': `${h}.${p.slice(0, 5)}\u200b${p.slice(5)}.${s}`,
    'zero-width joiner before the signature': `${h}.${p}.\u200d${s}`,
    'byte order mark': `\ufeff${good}`,
    'full-width dots': `${h}\uff0e${p}\uff0e${s}`,
    'percent-encoded dots': `${h}%2E${p}%2E${s}`,
    'full-width letter': `${h}.${p}.${s.slice(0, -1)}\uff41`,
    'NUL at the end': `${good}\u0000`,
    'non-ASCII letter': `${h}.${p}.\u00e9${s}`,
    'lone surrogate': `${good}\ud800`,
  };
  for (const [label, token] of Object.entries(variants)) {
    await refused(cache, token, 'ERR_JWT_MALFORMED', label);
    await refusedWith(cache.verifyJws(token, { jwksUri: issuer.jwksUri }), 'ERR_JWT_MALFORMED', `verifyJws ${label}`);
  }
  // Not a string at all: no coercion.
  const notStrings = [
    ['undefined', undefined], ['null', null], ['number', 42], ['object', {}], ['Buffer', Buffer.from(good)],
    ['String object', new String(good)], ['array', [good]], ['object with toString', { toString: () => good }],
  ];
  for (const [label, token] of notStrings) {
    await refused(cache, token, 'ERR_JWT_MALFORMED', label);
  }
  assert.equal(issuer.jwksRequests, 0);
  assert.equal((await cache.verify(good, options())).key.kid, 'es', 'control');
});

test('F1 compact-serialization: JSON is compared decoded: header-escaped-alg-value and header-json-inner-whitespace verify', async () => {
  const cache = createJwksCache();
  const headers = [
    '{"alg":"\\u0045S256","kid":"es"}',
    '{"alg":"\\u0045\\u0053\\u0032\\u0035\\u0036","kid":"\\u0065s"}',
    '{ "alg" : "ES256" ,\n\t"kid" : "es" }',
    '\r\n {"alg":"ES256","kid":"es"} \n',
  ];
  for (const header of headers) {
    const verified = await cache.verify(jws('ES256', es256.privateKey, header, claims()), options());
    assert.equal(verified.protectedHeader.alg, 'ES256', JSON.stringify(header));
    assert.equal(verified.key.kid, 'es');
  }
  // Whitespace in the claims, as in RFC 7515 A.2.
  const payload = `{"iss":"${ISS}",\r\n "exp":${NOW + 600},\r\n "http://example.com/is_root":true}`;
  assert.equal((await cache.verify(jws('ES256', es256.privateKey, { alg: 'ES256', kid: 'es' }, payload), options())).payload['http://example.com/is_root'], true);
  // The escaped alg meets the allow-list decoded: refused when ES256 is not allowed.
  await refused(cache, jws('ES256', es256.privateKey, headers[0], claims({ jti: 'x' })), 'ERR_JWS_ALG_NOT_ALLOWED', 'escaped ES256, not allowed', { algorithms: ['RS256'] });
});

test('F1 compact-serialization: a header that is not exactly one JSON object is refused (header-not-object-*, header-trailing-garbage)', async () => {
  const cache = createJwksCache();
  const headers = [
    ['["ES256"]', 'an array'],
    ['"ES256"', 'a string'],
    ['null', 'null'],
    ['256', 'a number'],
    ['true', 'a boolean'],
    ['{"alg":"ES256","kid":"es"} x', 'trailing garbage'],
    ['{"alg":"ES256","kid":"es"}{}', 'two objects'],
    ['{"alg":"ES256","kid":"es",}', 'a trailing comma'],
    ["{'alg':'ES256','kid':'es'}", 'single quotes'],
    ['{"alg":"ES256","kid":"es"', 'unterminated'],
    ['\ufeff{"alg":"ES256","kid":"es"}', 'a byte order mark'],
    ['{"alg":"ES256","kid":"es","x":"\\ud800"}', 'a lone surrogate escape'],
    [Buffer.concat([Buffer.from('{"alg":"ES256","kid":"es","x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), 'invalid UTF-8'],
    ['', 'empty'],
  ];
  for (const [header, label] of headers) await refused(cache, jws('ES256', es256.privateKey, header, claims()), 'ERR_JWT_MALFORMED', label);
  assert.equal(issuer.jwksRequests, 0);
});

test('F2 oversized: a 1 MB token, or one just over 16 KiB, is refused before decoding, quickly and without a fetch', async () => {
  const cache = createJwksCache();
  const big = tokenBy(es256, { pad: 'p'.repeat(1024 * 1024) });
  const started = performance.now();
  await refused(cache, big, 'ERR_JWT_MALFORMED', '1 MB payload');
  await refused(cache, `${segment({ alg: 'ES256', kid: 'es', pad: 'h'.repeat(1024 * 1024) })}.${segment(claims())}.${b64url(randomBytes(64))}`, 'ERR_JWT_MALFORMED', '1 MB header');
  await refused(cache, `${segment({ alg: 'ES256', kid: 'es' })}.${segment(claims())}.${b64url(randomBytes(768 * 1024))}`, 'ERR_JWT_MALFORMED', '1 MB signature');
  await refused(cache, 'a'.repeat(1024 * 1024), 'ERR_JWT_MALFORMED', '1 MB without dots');
  await refused(cache, '.'.repeat(1024 * 1024), 'ERR_JWT_MALFORMED', '1 MB of dots');
  await refusedWith(cache.verifyJws(big, { jwksUri: issuer.jwksUri }), 'ERR_JWT_MALFORMED', 'verifyJws 1 MB');
  assert.ok(performance.now() - started < 1000, `refused quickly (${Math.round(performance.now() - started)} ms)`);
  // Around the 16 KiB bound: within it verifies, past it is refused.
  const sized = (length) => {
    for (let pad = Math.floor(length * 0.75) - 400; ; pad++) {
      const token = tokenBy(es256, { pad: 'p'.repeat(pad) });
      if (token.length >= length) return token;
    }
  };
  const within = sized(16 * 1024 - 3);
  assert.ok(within.length <= 16 * 1024);
  assert.equal((await cache.verify(within, options())).key.kid, 'es', `${within.length} characters`);
  const past = sized(16 * 1024 + 1);
  await refused(cache, past, 'ERR_JWT_MALFORMED', `${past.length} characters`);
});

test('F2 oversized: deeply nested header or payload JSON is refused, quickly and without a fetch', async () => {
  const cache = createJwksCache();
  const nested = (depth) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
  for (const depth of [17, 100, 5000]) {
    await refused(cache, jws('ES256', es256.privateKey, { alg: 'ES256', kid: 'es' }, `{"exp":${NOW + 600},"x":${nested(depth)}}`), 'ERR_JWT_MALFORMED', `payload nested ${depth}`);
    await refused(cache, jws('ES256', es256.privateKey, `{"alg":"ES256","kid":"es","x":${nested(depth)}}`, claims()), 'ERR_JWT_MALFORMED', `header nested ${depth}`);
  }
  // 12 000 unclosed brackets (all a 16 KiB token holds): no stack overflow, just a refusal.
  await refused(cache, `${segment({ alg: 'ES256', kid: 'es' })}.${segment('['.repeat(12000))}.${b64url(randomBytes(64))}`, 'ERR_JWT_MALFORMED', 'unclosed brackets');
  assert.equal(issuer.jwksRequests, 0);
  // Moderate nesting is fine.
  assert.equal((await cache.verify(jws('ES256', es256.privateKey, { alg: 'ES256', kid: 'es' }, `{"exp":${NOW + 600},"x":${nested(10)}}`), options())).payload.exp, NOW + 600);
});

test('F2 oversized: the decoded header has a small cap of its own, below the token bound', async () => {
  const cache = createJwksCache();
  // A 10 KiB header (ATTACKS.md F2: "cap decoded header size separately (small, e.g. 4 KB)"), validly signed.
  const token = tokenBy(es256, {}, { pad: 'h'.repeat(10 * 1024) });
  assert.ok(token.length < 16 * 1024);
  await refused(cache, token, 'ERR_JWT_MALFORMED', '10 KiB header');
  assert.equal(issuer.jwksRequests, 0);
});

test('F2 oversized: a JWKS response too large, with too many keys, or never ending fails verification and keeps the cached set', async () => {
  const token = tokenBy(es256);
  issuer.behave('body', JSON.stringify({ keys: [es256.jwk], pad: 'x'.repeat(600 * 1024) }));
  await refused(createJwksCache(), token, 'ERR_JWKS_RESPONSE_TOO_LARGE', '600 KB body');
  const many = JSON.stringify({ keys: Array.from({ length: 100_000 }, (_, i) => ({ kty: 'EC', kid: `k${i}` })) });
  issuer.behave('body', many);
  await refused(createJwksCache({ maxResponseBytes: 16 * 1024 * 1024 }), token, 'ERR_JWKS_TOO_MANY_KEYS', '100 000 keys');
  await refused(createJwksCache(), token, 'ERR_JWKS_RESPONSE_TOO_LARGE', '100 000 keys, default body bound');
  issuer.behave('hang');
  await refused(createJwksCache({ timeoutMs: 200 }), token, 'ERR_JWKS_TIMEOUT', 'a hanging endpoint');
  // With a good set cached, an oversized refetch (unknown kid) leaves it in place.
  issuer.behave('ok');
  const cache = createJwksCache();
  assert.equal((await cache.verify(token, options())).key.kid, 'es');
  issuer.behave('body', many);
  await assert.rejects(cache.verify(tokenBy(es256, {}, { kid: 'unknown' }), options()), { code: 'ERR_JWKS_RESPONSE_TOO_LARGE' });
  assert.equal((await cache.verify(tokenBy(es256, { jti: 'again' }), options())).key.kid, 'es');
});

// ---------------------------------------------------------------------------------------------
// G. Claims
// ---------------------------------------------------------------------------------------------

test('G1 time-claims: exp, nbf and iat meet the exact inequalities at the pinned currentDate, with the given leeway', async () => {
  const cache = createJwksCache();
  const cases = [
    [{ exp: NOW + 1 }, {}, null, 'claims-exp-future-1s'],
    [{ exp: NOW }, {}, 'ERR_JWT_EXPIRED', 'claims-exp-equals-now'],
    [{ exp: NOW - 1 }, {}, 'ERR_JWT_EXPIRED', 'claims-exp-past-1s'],
    [{ exp: NOW - 1 }, { clockToleranceSec: 1 }, 'ERR_JWT_EXPIRED', 'exp + leeway = now'],
    [{ exp: NOW - 1 }, { clockToleranceSec: 2 }, null, 'exp within leeway'],
    [{ exp: NOW - 300 }, { clockToleranceSec: 300 }, 'ERR_JWT_EXPIRED', 'exp 300 s ago, leeway 300'],
    [{ exp: NOW + 0.5 }, {}, null, 'fractional exp ahead'],
    [{ exp: NOW - 0.5 }, {}, 'ERR_JWT_EXPIRED', 'fractional exp passed'],
    [{ exp: 0 }, {}, 'ERR_JWT_EXPIRED', 'exp 0'],
    [{ exp: 8.64e12 }, {}, null, 'exp at the end of the Date range'],
    [{ exp: 8.64e12 + 1 }, {}, 'ERR_JWT_CLAIM_INVALID', 'exp past the Date range (not clamped)'],
    [{ exp: 9.3e18 }, {}, 'ERR_JWT_CLAIM_INVALID', 'exp past INT64_MAX (not saturated)'],
    [{ exp: 1e300 }, {}, 'ERR_JWT_CLAIM_INVALID', 'exp 1e300'],
    [{ nbf: NOW }, {}, null, 'claims-nbf-now'],
    [{ nbf: NOW + 1 }, {}, 'ERR_JWT_NOT_YET_VALID', 'claims-nbf-future-1s'],
    [{ nbf: NOW + 1 }, { clockToleranceSec: 1 }, null, 'nbf within leeway'],
    [{ nbf: NOW + 2 }, { clockToleranceSec: 1 }, 'ERR_JWT_NOT_YET_VALID', 'nbf past leeway'],
    [{ nbf: NOW + 0.5 }, {}, 'ERR_JWT_NOT_YET_VALID', 'fractional nbf ahead'],
    [{ nbf: 8.64e12 + 1 }, {}, 'ERR_JWT_CLAIM_INVALID', 'nbf past the Date range'],
    [{ iat: NOW }, {}, null, 'iat now'],
    [{ iat: NOW + 1 }, {}, 'ERR_JWT_CLAIM_INVALID', 'iat 1 s ahead'],
    [{ iat: NOW + 1 }, { clockToleranceSec: 1 }, null, 'iat within leeway'],
    [{ iat: NOW + 10 * 365 * 86400 }, {}, 'ERR_JWT_CLAIM_INVALID', 'claims-iat-far-future'],
    [{ iat: NOW - 60 }, { maxTokenAgeSec: 60 }, null, 'maxTokenAgeSec: exactly the age'],
    [{ iat: NOW - 61 }, { maxTokenAgeSec: 60 }, 'ERR_JWT_EXPIRED', 'maxTokenAgeSec: older'],
    [{ iat: NOW - 61 }, { maxTokenAgeSec: 60, clockToleranceSec: 1 }, null, 'maxTokenAgeSec with leeway'],
    [{ iat: undefined }, { maxTokenAgeSec: 60 }, 'ERR_JWT_CLAIM_INVALID', 'maxTokenAgeSec requires iat'],
    [{ exp: undefined }, {}, 'ERR_JWT_CLAIM_INVALID', 'exp required by default'],
    [{ exp: undefined }, { requireExp: false }, null, 'requireExp: false'],
  ];
  for (const [extra, extraOptions, code, label] of cases) {
    const token = tokenBy(es256, { ...extra, jti: label });
    if (code === null) assert.equal((await cache.verify(token, options(extraOptions))).payload.jti, label, label);
    else await refused(cache, token, code, label, extraOptions);
  }
  // The time comes from currentDate, else from the cache's own clock.
  const pinned = createJwksCache({ now: () => NOW * 1000 });
  const token = tokenBy(es256, { exp: NOW + 60, jti: 'clock' });
  assert.equal((await pinned.verify(token, { jwksUri: issuer.jwksUri })).payload.jti, 'clock');
  await refusedWith(pinned.verify(token, { jwksUri: issuer.jwksUri, currentDate: new Date((NOW + 60) * 1000) }), 'ERR_JWT_EXPIRED', 'currentDate at exp');
  // A bad leeway or date is the caller's error, never ignored.
  for (const bad of [{ clockToleranceSec: -1 }, { clockToleranceSec: 1.5 }, { clockToleranceSec: NaN }, { clockToleranceSec: '5' }, { clockToleranceSec: 31536001 },
    { maxTokenAgeSec: 0 }, { currentDate: new Date(NaN) }, { currentDate: NOW * 1000 }, { currentDate: '2023-11-14' }, { requireExp: 'false' }]) {
    await refusedWith(cache.verify(token, options(bad)), 'ERR_INVALID_OPTION', JSON.stringify(bad));
  }
});

test('G1 time-claims: fractional NumericDates are compared with the exact time, milliseconds included', async () => {
  const cache = createJwksCache();
  // now = NOW + 0.6 s throughout.
  const at = { currentDate: new Date(NOW * 1000 + 600) };
  const cases = [
    [{ exp: NOW + 0.5 }, 'ERR_JWT_EXPIRED', 'exp NOW + 0.5 has passed (now >= exp)'],
    [{ exp: NOW + 0.7 }, null, 'exp NOW + 0.7 has not passed'],
    [{ nbf: NOW + 0.5 }, null, 'nbf NOW + 0.5 has come (now >= nbf)'],
    [{ nbf: NOW + 0.7 }, 'ERR_JWT_NOT_YET_VALID', 'nbf NOW + 0.7 has not come'],
    [{ iat: NOW + 0.5 }, null, 'iat NOW + 0.5 is in the past'],
    [{ iat: NOW + 0.7 }, 'ERR_JWT_CLAIM_INVALID', 'iat NOW + 0.7 is in the future'],
  ];
  const wrong = [];
  for (const [extra, code, label] of cases) {
    const outcome = await cache.verify(tokenBy(es256, { ...extra, jti: label }), options(at)).then(() => null, (error) => error.code);
    if (outcome !== code) wrong.push(`${label}: expected ${code ?? 'accepted'}, got ${outcome ?? 'accepted'}`);
  }
  assert.deepEqual(wrong, []);
});

test('G2 numeric-strings: exp, nbf or iat that is not a finite JSON number is refused, never treated as absent', async () => {
  const cache = createJwksCache();
  const cases = [
    [{ exp: String(NOW + 600) }, 'claims-exp-string'],
    [{ exp: String(NOW - 600) }, 'expired exp as a string'],
    [{ nbf: String(NOW + 600) }, 'claims-nbf-string'],
    [{ iat: String(NOW) }, 'claims-iat-string'],
    [{ exp: null }, 'claims-exp-null'],
    [{ exp: true }, 'claims-exp-bool'],
    [{ exp: false }, 'exp false'],
    [{ exp: [NOW + 600] }, 'claims-exp-array'],
    [{ exp: { value: NOW + 600 } }, 'exp an object'],
    [{ exp: -1 }, 'claims-exp-negative'],
    [{ exp: '' }, 'exp an empty string'],
    [{ nbf: null }, 'nbf null'],
    [{ nbf: -1 }, 'nbf negative'],
    [{ iat: [] }, 'iat an empty array'],
    [{ iat: -100 }, 'iat negative'],
  ];
  for (const [extra, label] of cases) {
    const token = tokenBy(es256, extra);
    await refused(cache, token, 'ERR_JWT_CLAIM_INVALID', label);
    await refused(cache, token, 'ERR_JWT_CLAIM_INVALID', `${label}, requireExp false`, { requireExp: false });
    // A forged token is refused for its signature, whatever its claims.
    await refused(cache, jws('ES256', ATTACKER_KEY, { alg: 'ES256', kid: 'es' }, claims(extra)), 'ERR_JWS_SIGNATURE_INVALID', `forged ${label}`);
  }
  // Numbers that JSON spells differently are still numbers.
  for (const exp of [`${NOW + 600}.0`, `${(NOW + 600) / 1e9}e9`, `${NOW + 600}E0`]) {
    const token = jws('ES256', es256.privateKey, { alg: 'ES256', kid: 'es' }, `{"sub":"alice","exp":${exp}}`);
    assert.equal((await cache.verify(token, options())).payload.sub, 'alice', exp);
  }
  // A number too large for a double is refused, not read as Infinity.
  const overflow = jws('ES256', es256.privateKey, { alg: 'ES256', kid: 'es' }, '{"exp":1e400}');
  await assert.rejects(cache.verify(overflow, options()), (error) => ['ERR_JWT_MALFORMED', 'ERR_JWT_CLAIM_INVALID'].includes(error.code));
});

test('G2 numeric-strings: claims that are not one JSON object are refused (claims-not-json, claims-json-array, claims-trailing-garbage)', async () => {
  const cache = createJwksCache();
  const payloads = [
    ['not json', 'claims-not-json'],
    [`[{"exp":${NOW + 600}}]`, 'claims-json-array'],
    [`{"exp":${NOW + 600}} x`, 'claims-trailing-garbage'],
    [`{"exp":${NOW + 600}}{}`, 'two objects'],
    ['"claims"', 'a string'],
    ['null', 'null'],
    [String(NOW), 'a number'],
    ['', 'empty'],
    [`{"exp":${NOW + 600},}`, 'a trailing comma'],
    [`{"exp":${NOW + 600},"x":NaN}`, 'NaN'],
    [Buffer.concat([Buffer.from(`{"exp":${NOW + 600},"sub":"`), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]), 'overlong UTF-8'],
  ];
  for (const [payload, label] of payloads) await refused(cache, jws('ES256', es256.privateKey, { alg: 'ES256', kid: 'es' }, payload), 'ERR_JWT_MALFORMED', label);
  assert.equal(issuer.jwksRequests, 0);
});

test('G3 claims-other: iss must equal an accepted issuer exactly', async () => {
  const cache = createJwksCache();
  const accepted = [[ISS, ISS], [ISS, [ISS]], [ISS, ['https://other.example', ISS]]];
  for (const [iss, issuerOption] of accepted) {
    assert.equal((await cache.verify(tokenBy(es256, { iss, jti: JSON.stringify(issuerOption) }), options({ issuer: issuerOption }))).payload.iss, iss);
  }
  const refusedIss = [`${ISS}/`, 'https://ISSUER.example', ` ${ISS}`, 'https://issuer.example.evil', [ISS], null, 42, undefined];
  for (const iss of refusedIss) {
    await refused(cache, tokenBy(es256, { iss, jti: `iss-${JSON.stringify(iss)}` }), 'ERR_JWT_CLAIM_INVALID', `iss ${JSON.stringify(iss)}`, { issuer: ISS });
  }
  for (const issuerOption of ['', [''], [42], 42, { iss: ISS }]) {
    await refusedWith(cache.verify(tokenBy(es256), options({ issuer: issuerOption })), 'ERR_INVALID_OPTION', `issuer ${JSON.stringify(issuerOption)}`);
  }
  // An empty list matches no iss a token can hold: refused like an empty string, never read as "any issuer".
  await refusedWith(cache.verify(tokenBy(es256, { iss: 'https://evil.example', jti: 'no-issuer' }), options({ issuer: [] })), 'ERR_INVALID_OPTION', 'issuer []');
});

test('G3 claims-other: aud (a string or an array of strings) must hold an accepted audience', async () => {
  const cache = createJwksCache();
  const accepted = [[AUD, AUD], [[AUD], AUD], [['other', AUD], AUD], [AUD, ['x', AUD]], [['a', 'b'], ['c', 'b']]];
  for (const [aud, audience] of accepted) {
    assert.deepEqual((await cache.verify(tokenBy(es256, { aud, jti: JSON.stringify([aud, audience]) }), options({ audience }))).payload.aud, aud);
  }
  const refusedAud = [['api://other', AUD], [[], AUD], [['api://other'], AUD], [`${AUD}/`, AUD], ['API://ORDERS', AUD], [undefined, AUD], [42, AUD], [[42], AUD], [[AUD, 42], AUD], [null, AUD], [{ aud: AUD }, AUD]];
  for (const [aud, audience] of refusedAud) {
    await refused(cache, tokenBy(es256, { aud, jti: `aud-${JSON.stringify(aud)}` }), 'ERR_JWT_CLAIM_INVALID', `aud ${JSON.stringify(aud)}`, { audience });
  }
  for (const audience of ['', [''], 42, [null], { aud: AUD }]) {
    await refusedWith(cache.verify(tokenBy(es256), options({ audience })), 'ERR_INVALID_OPTION', `audience ${JSON.stringify(audience)}`);
  }
  // An empty list matches no aud a token can hold: refused like an empty string, never read as "any audience".
  await refusedWith(cache.verify(tokenBy(es256, { aud: 'api://other', jti: 'no-audience' }), options({ audience: [] })), 'ERR_INVALID_OPTION', 'audience []');
});

test('G3 claims-other: typ is compared case-insensitively with application/ optional, and required when asked; requiredClaims must be present', async () => {
  const cache = createJwksCache();
  for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/At+JWT']) {
    assert.equal((await cache.verify(tokenBy(es256, { jti: typ }, { typ }), options({ typ: 'at+jwt' }))).protectedHeader.typ, typ);
  }
  for (const [typ, label] of [['JWT', 'a plain JWT'], ['application/jwt', 'application/jwt'], ['at+jwt ', 'trailing space'], ['x-application/at+jwt', 'another prefix'], [undefined, 'absent'], [42, 'a number'], [['at+jwt'], 'an array']]) {
    const header = typ === undefined ? {} : { typ };
    await refused(cache, tokenBy(es256, { jti: `typ-${label}` }, header), 'ERR_JWT_CLAIM_INVALID', `typ ${label}`, { typ: 'at+jwt' });
  }
  assert.equal((await cache.verify(tokenBy(es256, { jti: 'plain' }, { typ: 'JWT' }), options({ typ: 'JWT' }))).protectedHeader.typ, 'JWT');
  // typ in the payload is not the header's typ.
  await refused(cache, tokenBy(es256, { typ: 'at+jwt', jti: 'payload-typ' }), 'ERR_JWT_CLAIM_INVALID', 'typ in the payload only', { typ: 'at+jwt' });
  // requiredClaims
  assert.equal((await cache.verify(tokenBy(es256, { jti: 'req' }), options({ requiredClaims: ['sub', 'jti', 'aud'] }))).payload.jti, 'req');
  await refused(cache, tokenBy(es256, { jti: 'req2' }), 'ERR_JWT_CLAIM_INVALID', 'nonce required', { requiredClaims: ['nonce'] });
  await refused(cache, tokenBy(es256, { jti: 'req3', sub: undefined }), 'ERR_JWT_CLAIM_INVALID', 'sub required', { requiredClaims: ['sub'] });
  // Claim errors come after the signature: a forged token gets none, but for an iss the caller
  // does not accept, which is refused before any key is looked up (B3).
  await refused(cache, jws('ES256', ATTACKER_KEY, { alg: 'ES256', kid: 'es', typ: 'JWT' }, claims({ aud: 'y' })), 'ERR_JWS_SIGNATURE_INVALID', 'forged', { issuer: ISS, audience: AUD, typ: 'at+jwt' });
  await refused(cache, jws('ES256', ATTACKER_KEY, { alg: 'ES256', kid: 'es', typ: 'JWT' }, claims({ iss: 'x', aud: 'y' })), 'ERR_JWT_CLAIM_INVALID', 'forged, foreign iss', { issuer: ISS });
});

// ---------------------------------------------------------------------------------------------
// H. Baseline integrity
// ---------------------------------------------------------------------------------------------

test('H basic-integrity: a tampered payload, header or signature never verifies (every algorithm)', async () => {
  const cache = createJwksCache();
  const signers = [rs, ps, es256, es384, es512, ed];
  for (const signer of signers) {
    const good = tokenBy(signer, { jti: `h-${signer.kid}` });
    const [h, p, s] = good.split('.');
    const sig = signatureOf(good);
    const flipped = (at) => {
      const copy = Buffer.from(sig);
      copy[at] ^= 0x01;
      return copy;
    };
    const tampered = {
      'tamper-payload (sub admin)': `${h}.${segment(claims({ jti: `h-${signer.kid}`, sub: 'admin' }))}.${s}`,
      'tamper-payload (exp extended)': `${h}.${segment(claims({ jti: `h-${signer.kid}`, exp: NOW + 99999 }))}.${s}`,
      'tamper-header (typ added)': `${segment({ alg: signer.alg, kid: signer.kid, typ: 'JWT' })}.${p}.${s}`,
      'tamper-header (reordered members)': `${segment({ kid: signer.kid, alg: signer.alg })}.${p}.${s}`,
      'tamper-signature (first byte)': withSignature(good, flipped(0)),
      'tamper-signature (middle byte)': withSignature(good, flipped(sig.length >> 1)),
      'tamper-signature (last byte)': withSignature(good, flipped(sig.length - 1)),
      'signature of another token': withSignature(good, signatureOf(tokenBy(signer, { jti: 'other' }))),
      'all-zero signature': withSignature(good, Buffer.alloc(sig.length)),
    };
    for (const [label, token] of Object.entries(tampered)) {
      await refused(cache, token, 'ERR_JWS_SIGNATURE_INVALID', `${signer.alg} ${label}`);
      await refusedWith(cache.verifyJws(token, { jwksUri: issuer.jwksUri }), 'ERR_JWS_SIGNATURE_INVALID', `verifyJws ${signer.alg} ${label}`);
    }
    assert.equal((await cache.verify(good, options())).key.kid, signer.kid, `${signer.alg} control`);
  }
  // An empty payload segment is no JSON object.
  const good = tokenBy(es256);
  const [h, , s] = good.split('.');
  await refused(cache, `${h}..${s}`, 'ERR_JWT_MALFORMED', 'empty payload segment');
});

test('H basic-integrity: truncated or extended RSA signatures are refused', async () => {
  const cache = createJwksCache();
  for (const signer of [rs, ps]) {
    const good = tokenBy(signer, { jti: `trunc-${signer.kid}` });
    const sig = signatureOf(good);
    const cases = {
      'last byte dropped': sig.subarray(0, -1),
      'first byte dropped': sig.subarray(1),
      'half': sig.subarray(0, 128),
      'one byte': sig.subarray(0, 1),
      'leading zero byte added': Buffer.concat([Buffer.from([0]), sig]),
      'trailing zero byte added': Buffer.concat([sig, Buffer.from([0])]),
      'doubled': Buffer.concat([sig, sig]),
    };
    for (const [label, bytes] of Object.entries(cases)) {
      await refused(cache, withSignature(good, bytes), 'ERR_JWS_SIGNATURE_INVALID', `${signer.alg} ${label}`);
    }
    assert.equal((await cache.verify(good, options())).key.kid, signer.kid, `${signer.alg} control`);
  }
});

test('H basic-integrity: swapping the header alg (RS256 to PS256/RS384/RS512, PS256 to RS256, ES256 to ES384/ES512) never verifies', async () => {
  const cache = createJwksCache();
  // rsa-any has no alg in its JWK, so every RSA algorithm may select it: only the signature decides.
  const swaps = [['RS256', ['RS384', 'RS512', 'PS256', 'PS384', 'PS512']], ['PS256', ['RS256', 'PS384', 'PS512']], ['RS512', ['RS256', 'PS512']]];
  for (const [from, targets] of swaps) {
    const good = jws(from, rsaAny.privateKey, { alg: from, kid: 'rsa-any' }, claims());
    const [, p, s] = good.split('.');
    for (const to of targets) await refused(cache, `${segment({ alg: to, kid: 'rsa-any' })}.${p}.${s}`, 'ERR_JWS_SIGNATURE_INVALID', `${from} -> ${to}`);
    assert.equal((await cache.verify(good, options())).protectedHeader.alg, from, `${from} control`);
  }
  const es = tokenBy(es256);
  const [, p, s] = es.split('.');
  for (const to of ['ES384', 'ES512']) {
    await refused(cache, `${segment({ alg: to, kid: 'es' })}.${p}.${s}`, 'ERR_JWS_SIGNATURE_INVALID', `ES256 -> ${to}`);
    await refused(cache, `${segment({ alg: to })}.${p}.${s}`, 'ERR_JWS_SIGNATURE_INVALID', `ES256 -> ${to}, no kid`);
  }
});

test('H basic-integrity: the right kid with a signature by another key (kid-right-signature-wrong-key) is refused', async () => {
  const cache = createJwksCache();
  const wrong = [
    ['RS256', rsaAny.privateKey, 'rs'],
    ['PS256', rs.privateKey, 'ps'],
    ['RS256', ps.privateKey, 'rsa-any'],
    ['ES256', ATTACKER_KEY, 'es'],
    ['ES384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, 'es384'],
    ['ES512', generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey, 'es512'],
    ['EdDSA', generateKeyPairSync('ed25519').privateKey, 'ed'],
  ];
  for (const [alg, key, kid] of wrong) {
    await refused(cache, jws(alg, key, { alg, kid }, claims({ sub: 'admin' })), 'ERR_JWS_SIGNATURE_INVALID', `${alg} kid ${kid}, another key`);
  }
});

test('H basic-integrity: a remembered (already verified) token still meets each call\'s allow-list, jwksUri and claims', async () => {
  const cache = createJwksCache();
  const token = tokenBy(rs, { jti: 'remembered' });
  assert.equal((await cache.verify(token, options())).payload.jti, 'remembered');
  await refused(cache, token, 'ERR_JWS_ALG_NOT_ALLOWED', 'allow-list of this call', { algorithms: ['ES256'] });
  await refused(cache, token, 'ERR_JWT_EXPIRED', 'currentDate of this call', { currentDate: new Date((NOW + 600) * 1000) });
  await refused(cache, token, 'ERR_JWT_CLAIM_INVALID', 'issuer of this call', { issuer: 'https://other.example' });
  await refused(cache, token, 'ERR_JWT_CLAIM_INVALID', 'audience of this call', { audience: 'other' });
  // Another JWKS URI whose set has a different key under the same kid: not answered from memory.
  attacker.setKeys([{ ...rsaAny.jwk, kid: 'rs', alg: 'RS256' }]);
  await refused(cache, token, 'ERR_JWS_SIGNATURE_INVALID', 'another jwksUri', { jwksUri: attacker.jwksUri });
  assert.equal((await cache.verify(token, options())).payload.jti, 'remembered');
});

// ---------------------------------------------------------------------------------------------
// Positive controls
// ---------------------------------------------------------------------------------------------

test('Positive controls: a valid token of every algorithm verifies, with its payload, header and the JWKS key', async () => {
  const cache = createJwksCache();
  const cases = [
    ...[rs, ps, es256, es384, es512, ed].map((signer) => [signer.alg, signer.privateKey, signer.kid, signer.jwk]),
    ...['RS384', 'RS512', 'PS384', 'PS512'].map((alg) => [alg, rsaAny.privateKey, 'rsa-any', rsaAny.jwk]),
  ];
  for (const [alg, key, kid, jwk] of cases) {
    const token = jws(alg, key, { alg, kid, typ: 'JWT' }, claims({ jti: alg }));
    const verified = await cache.verify(token, options({ issuer: ISS, audience: AUD, typ: 'JWT', algorithms: [alg], requiredClaims: ['sub'] }));
    assert.deepEqual(verified.payload, claims({ jti: alg }), alg);
    assert.deepEqual(verified.protectedHeader, { alg, kid, typ: 'JWT' });
    assert.deepEqual(verified.key, jwk);
    const jwsResult = await cache.verifyJws(token, { jwksUri: issuer.jwksUri, algorithms: [alg] });
    assert.deepEqual(JSON.parse(Buffer.from(jwsResult.payload).toString()), claims({ jti: alg }));
  }
  assert.equal(issuer.jwksRequests, 1, 'one fetch for all of them');
  // verifyToken, the shared cache, too.
  assert.equal((await verifyToken(tokenBy(es256, { jti: 'shared' }), issuer.jwksUri, { currentDate: AT, audience: AUD })).payload.jti, 'shared');
});

test('Positive controls: the RFC 7515, 7520 and 8037 example signatures verify (verifyJws; verify with the clock pinned before their exp)', async () => {
  for (const vector of rfcVectors.filter((v) => v.valid)) {
    issuer.setKeys([vector.jwk]);
    const cache = createJwksCache();
    const result = await cache.verifyJws(vector.jws, { jwksUri: issuer.jwksUri });
    assert.equal(Buffer.from(result.payload).toString(), Buffer.from(vector.payload_b64url, 'base64url').toString(), vector.name);
    assert.deepEqual(result.key, vector.jwk);
    assert.equal(result.protectedHeader.alg, vector.alg);
    if (vector.name.startsWith('rfc7515-A.2') || vector.name.startsWith('rfc7515-A.3')) {
      // JWT claims with "exp":1300819380 (2011): valid just before, expired at exp.
      const verified = await cache.verify(vector.jws, { jwksUri: issuer.jwksUri, currentDate: new Date((1300819380 - 1) * 1000) });
      assert.equal(verified.payload.iss, 'joe', vector.name);
      await refusedWith(cache.verify(vector.jws, { jwksUri: issuer.jwksUri, currentDate: new Date(1300819380 * 1000) }), 'ERR_JWT_EXPIRED', `${vector.name} at exp`);
    } else {
      // A plain-text payload is no claims set.
      await refusedWith(cache.verify(vector.jws, { jwksUri: issuer.jwksUri }), 'ERR_JWT_MALFORMED', `${vector.name} as a JWT`);
    }
  }
});

test('Positive controls: jwks-kid-2011-04-29-rs256-positive and rfc7520-4.8-sig1-rs256-as-compact analogues (RFC 7517 A.1-shaped set)', async () => {
  // The RFC 7517 A.1 set: an EC key for encryption (kid "1") and an RS256 key (kid "2011-04-29").
  const encEc = { ...withoutKid(ATTACKER_JWK), use: 'enc', kid: '1' };
  delete encEc.alg;
  issuer.setKeys([encEc, { ...rs.jwk, kid: '2011-04-29' }]);
  const cache = createJwksCache();
  const withKid = jws('RS256', rs.privateKey, { alg: 'RS256', kid: '2011-04-29' }, claims());
  assert.equal((await cache.verify(withKid, options())).key.kid, '2011-04-29');
  const withoutKidToken = jws('RS256', rs.privateKey, { alg: 'RS256' }, claims());
  assert.equal((await cache.verify(withoutKidToken, options())).key.kid, '2011-04-29', 'no kid: the one RS256 key');
  // The enc EC key is never a candidate, with or without kid.
  await refused(cache, jws('ES256', ATTACKER_KEY, { alg: 'ES256', kid: '1' }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', 'ES256 naming the enc key');
  await refused(cache, jws('ES256', ATTACKER_KEY, { alg: 'ES256' }, claims()), 'ERR_JWKS_NO_MATCHING_KEY', 'ES256 without kid');
});
