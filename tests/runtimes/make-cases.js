// Writes the cases file of tests/runtimes/suite.js, made in Node: the JWKS to serve and the tokens
// signed with its keys (tests/support/verify-cases.js), plus the tokens whose answer only the
// runtime's crypto decides, each with Node's answer, which every runtime must give as well.
//
//   node tests/runtimes/make-cases.js <cases.json> <unreachableUri>
//
// tests/node/runtimes.test.js runs it as a child process with a timeout, and again if it stalls:
// Node 20.20's generateKeyPairSync followed by export({ format: 'jwk' }) can deadlock for good
// when a garbage collection runs during the export (the main thread waits in ~KeyGenJob on a
// mutex the export holds), about once in a few hundred RSA keys. Its RSA keys now come from a fixed
// set (tests/support/rsa-keys.js), as in every test; the timeout stays for what else may stall.
import { constants, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { b64url } from '../support/signer.js';
import { AUDIENCE, ISSUER, makeVerifySuite } from '../support/verify-cases.js';

const [out, unreachableUri] = process.argv.slice(2);
if (!out || !unreachableUri) throw new Error('usage: make-cases.js <cases.json> <unreachableUri>');

/** Curve orders n of P-256, P-384, P-521 (SEC 2), and the Ed25519 group order L (RFC 8032). */
const ORDER = {
  ES256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  ES384: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  ES512: BigInt(`0x1${'f'.repeat(65)}a51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409`),
};
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;
const toBytes = (value, size) => Buffer.from(value.toString(16).padStart(size * 2, '0'), 'hex');
const toBigInt = (bytes) => BigInt(`0x${Buffer.from(bytes).toString('hex')}`);

/** A served key whose EC point is off P-256 (tests/data/jwk-vectors.json): only the host's import can tell. */
const OFF_CURVE = {
  ...JSON.parse(readFileSync(new URL('../data/jwk-vectors.json', import.meta.url), 'utf8')).keys.find((k) => k.name === 'ec-point-not-on-curve').jwk,
  kid: 'ec-off-curve',
};

function edgeCases(suite) {
  const edge = [];
  const add = (name, token, expect) => edge.push({ name, token, expect });
  const split = (token) => [token.slice(0, token.lastIndexOf('.')), Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url')];
  // PSS with a salt other than the digest's length (RFC 7518 3.5): never verifies.
  for (const alg of ['PS256', 'PS384', 'PS512']) {
    const { valid, signer } = suite.byAlg[alg];
    const [input] = split(valid.token);
    for (const [label, saltLength] of [['salt-0', 0], ['salt-max', constants.RSA_PSS_SALTLEN_MAX_SIGN]]) {
      const signature = sign(`sha${alg.slice(2)}`, Buffer.from(input), { key: signer.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
      add(`${alg}.${label}`, `${input}.${b64url(signature)}`, 'ERR_JWS_SIGNATURE_INVALID');
    }
  }
  // ECDSA: r = s = 0 and r = s = n never verify; high-S (r, n - s) does (JWS has no low-S rule).
  for (const alg of ['ES256', 'ES384', 'ES512']) {
    const [input, signature] = split(suite.byAlg[alg].valid.token);
    const size = signature.length / 2;
    const n = ORDER[alg];
    add(`${alg}.r0-s0`, `${input}.${b64url(Buffer.alloc(2 * size))}`, 'ERR_JWS_SIGNATURE_INVALID');
    add(`${alg}.r-s-eq-n`, `${input}.${b64url(Buffer.concat([toBytes(n, size), toBytes(n, size)]))}`, 'ERR_JWS_SIGNATURE_INVALID');
    const highS = Buffer.concat([signature.subarray(0, size), toBytes(n - toBigInt(signature.subarray(size)), size)]);
    add(`${alg}.high-s`, `${input}.${b64url(highS)}`, 'verifies');
  }
  // Ed25519 S + L (non-canonical S): never verifies.
  const [input, signature] = split(suite.byAlg.EdDSA.valid.token);
  const s = toBigInt(Buffer.from(signature.subarray(32)).reverse());
  add('EdDSA.s-plus-l', `${input}.${b64url(Buffer.concat([signature.subarray(0, 32), toBytes(s + ED25519_L, 32).reverse()]))}`, 'ERR_JWS_SIGNATURE_INVALID');
  // A valid ES256 signature over a header naming the off-curve key: the key is refused at import.
  const es = suite.byAlg.ES256;
  const offInput = `${b64url(JSON.stringify({ alg: 'ES256', kid: OFF_CURVE.kid, typ: 'JWT' }))}.${b64url(JSON.stringify(es.valid.claims))}`;
  add('ES256.off-curve-key', `${offInput}.${b64url(es.signer.signBytes(offInput))}`, 'ERR_JWKS_NO_MATCHING_KEY');
  return edge;
}

const suite = makeVerifySuite();
const cases = suite.cases.map((c) => ({
  alg: c.alg,
  kid: c.signer.kid,
  sub: c.valid.claims.sub,
  name: c.valid.claims.name,
  token: c.valid.token,
  flipped: c.flipped,
}));
const data = {
  jwks: [...suite.jwks, OFF_CURVE],
  options: { issuer: ISSUER, audience: AUDIENCE },
  unreachableUri,
  cases,
  edge: edgeCases(suite),
};
writeFileSync(out, JSON.stringify(data));
