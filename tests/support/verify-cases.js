// Tokens for the `verify` tests of each runtime (tests/workerd/, tests/browser/): one signer per
// algorithm (tests/support/signer.js), and for each a valid token, tokens whose signature has one
// byte flipped, and an expired token, all signed in Node; plus tokens that must be refused for
// their algorithm alone (none, HS256). The runtime under test verifies them against the keys the
// test's issuer serves (tests/support/jwks-server.js).
//
//   const suite = makeVerifySuite();
//   issuer.setKeys(suite.jwks);
//   for (const c of suite.cases) c.valid.token, c.valid.header, c.valid.claims, c.flipped[position], c.expired, c.expiredClaims
//   suite.options(issuer.jwksUri)         // { jwksUri, issuer, audience } the valid tokens meet

import { createHmac } from 'node:crypto';
import { ALGORITHMS, b64url, makeSigner, nowSec } from './signer.js';

export { ALGORITHMS };

export const ISSUER = 'https://issuer.example';
export const AUDIENCE = 'api://jwks-cache-tests';

/**
 * The token with one byte of its signature flipped (XOR 0x01) at `position` ('first', 'middle',
 * 'last'), re-encoded canonically: same length, only the signature differs.
 */
export function flipSignatureByte(token, position) {
  const [header, payload, signature] = token.split('.');
  const bytes = Buffer.from(signature, 'base64url');
  const index = { first: 0, middle: bytes.length >> 1, last: bytes.length - 1 }[position];
  bytes[index] ^= 0x01;
  return `${header}.${payload}.${b64url(bytes)}`;
}

export const FLIP_POSITIONS = ['first', 'middle', 'last'];

/**
 * @param {{ now?: number }} [options] `now` in seconds (default: the clock)
 */
export function makeVerifySuite({ now = nowSec() } = {}) {
  const cases = ALGORITHMS.map((alg) => {
    const signer = makeSigner(alg, { kid: `kid-${alg}` });
    const header = { alg, kid: signer.kid, typ: 'JWT' };
    const claims = {
      iss: ISSUER,
      sub: `user-${alg}`,
      aud: [AUDIENCE, 'api://other-service'],
      iat: now - 10,
      nbf: now - 10,
      exp: now + 3600,
      // Non-ASCII text and nesting: the payload must come back exactly, decoded as UTF-8.
      name: 'Zoë Ångström ✓ 🔑',
      scope: ['read', 'write'],
      nested: { n: 1.5, ok: true, none: null },
    };
    const token = signer.sign(claims, { header: { typ: 'JWT' } });
    const expiredClaims = { ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 3600 };
    return {
      alg,
      signer,
      jwk: signer.jwk,
      valid: { token, header, claims },
      flipped: Object.fromEntries(FLIP_POSITIONS.map((position) => [position, flipSignatureByte(token, position)])),
      expired: signer.sign(expiredClaims, { header: { typ: 'JWT' } }),
      expiredClaims,
    };
  });
  return {
    cases,
    jwks: cases.map((c) => c.jwk),
    byAlg: Object.fromEntries(cases.map((c) => [c.alg, c])),
    /** The options every valid token meets. */
    options: (jwksUri) => ({ jwksUri, issuer: ISSUER, audience: AUDIENCE }),
    /** Tokens refused for their `alg`, each naming the kid of a served key. */
    refusedAlgorithms: refusedAlgorithmTokens(cases[0], now),
  };
}

/**
 * `none` and `HS256` tokens whose kid names a served key (so only their `alg` refuses them):
 * - noneUnsecured: an Unsecured JWS as RFC 7519 6.1 writes it, empty signature;
 * - noneSigned: `alg: none` with a signature segment anyway;
 * - hs256: HMAC-SHA256 with some secret;
 * - hs256KeyConfusion: HMAC-SHA256 keyed with the served public JWK's JSON text, the classic
 *   algorithm-confusion forgery (a verifier that fed the JWK to HMAC would accept it).
 */
function refusedAlgorithmTokens(served, now) {
  const claims = { iss: ISSUER, sub: 'mallory', aud: AUDIENCE, iat: now, exp: now + 3600 };
  const input = (alg) => `${b64url(JSON.stringify({ alg, kid: served.signer.kid, typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  const hmac = (secret, text) => b64url(createHmac('sha256', secret).update(text).digest());
  return {
    noneUnsecured: `${input('none')}.`,
    noneSigned: `${input('none')}.${b64url(Buffer.from('not a signature'))}`,
    hs256: `${input('HS256')}.${hmac('secret', input('HS256'))}`,
    hs256KeyConfusion: `${input('HS256')}.${hmac(JSON.stringify(served.jwk), input('HS256'))}`,
  };
}
